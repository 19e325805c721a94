using System.Text.Json.Nodes;
using Realtime.TestSupport;
using static Realtime.Server.Tests.Documents.DocumentHost;

namespace Realtime.Server.Tests.Documents;

/// <summary>A store that fails a write: the refused op leaves nothing behind, neither in the store nor in the live snapshot.</summary>
public sealed class DocumentStoreFailureTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_op_whose_commit_throws_is_not_left_in_the_live_snapshot(bool compatibility)
    {
        var store = new FailingStore();
        await using KestrelRealtimeHost host = await StartAsync(o => o.Store = store);
        host.ExpectErrors("DocumentRequestFailed");
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility);
        Assert.Equal(Ack(a.Id, 1, 0), await a.AskAsync(Create(1, "a")));

        store.FailNextCommit = new IOException("disk full");
        Assert.Equal("Internal server error", await a.ExpectErrorAsync(Insert(2, 1, 1, "refused"), 1000));

        Assert.Equal(Ack(a.Id, 3, 1), await a.AskAsync(Insert(3, 1, 1, "b")));
        Assert.Equal(Snapshot(0, "room1", 2, "a", "b"), await a.AskAsync("""{"a":0}"""));
        Assert.Equal("""["a","b"]""", (await host.Server.GetDocumentService().FetchAsync("room1")).Data!.ToJsonString());
    }

    /// <summary>An <see cref="InMemoryDocumentStore"/> whose next <see cref="CommitAsync"/> throws <see cref="FailNextCommit"/> once.</summary>
    internal sealed class FailingStore : DocumentStore
    {
        private readonly InMemoryDocumentStore _inner = new();

        private int _recordReads;

        public Exception? FailNextCommit { get; set; }

        /// <summary>The store underneath, for writes of "another node" that this one's live state does not know about.</summary>
        public InMemoryDocumentStore Inner => _inner;

        /// <summary>How many times a record was read.</summary>
        public int RecordReads => Volatile.Read(ref _recordReads);

        public override ValueTask<DocumentRecord?> GetRecordAsync(string documentId, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _recordReads);
            return _inner.GetRecordAsync(documentId, cancellationToken);
        }

        public override ValueTask<StoredSnapshot?> GetSnapshotAsync(string documentId, CancellationToken cancellationToken = default)
            => _inner.GetSnapshotAsync(documentId, cancellationToken);

        public override ValueTask<IReadOnlyList<DocumentOperation>> GetOperationsAsync(string documentId, long from, long? to,
                                                                                       CancellationToken cancellationToken = default)
            => _inner.GetOperationsAsync(documentId, from, to, cancellationToken);

        public override ValueTask<DocumentOperation?> FindOperationAsync(string documentId, string source, long sequence,
                                                                         CancellationToken cancellationToken = default)
            => _inner.FindOperationAsync(documentId, source, sequence, cancellationToken);

        public override ValueTask<StoredSnapshot?> GetMilestoneAsync(string documentId, long version, CancellationToken cancellationToken = default)
            => _inner.GetMilestoneAsync(documentId, version, cancellationToken);

        public override ValueTask<long?> TrimAsync(string documentId, DateTimeOffset before, CancellationToken cancellationToken = default)
            => _inner.TrimAsync(documentId, before, cancellationToken);

        public override ValueTask<bool> CommitAsync(string documentId, DocumentCommit commit, CancellationToken cancellationToken = default)
        {
            if (FailNextCommit is { } failure)
            {
                FailNextCommit = null;
                throw failure;
            }

            return _inner.CommitAsync(documentId, commit, cancellationToken);
        }

        public override ValueTask<bool> DeleteAsync(string documentId, long expectedVersion, CancellationToken cancellationToken = default)
            => _inner.DeleteAsync(documentId, expectedVersion, cancellationToken);
    }
}
