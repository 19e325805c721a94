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
    internal sealed class FailingStore : WrappedDocumentStore
    {
        private int _recordReads;

        public Exception? FailNextCommit { get; set; }

        /// <summary>How many times a record was read.</summary>
        public int RecordReads => Volatile.Read(ref _recordReads);

        public override ValueTask<DocumentRecord?> GetRecordAsync(string documentId, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _recordReads);
            return Inner.GetRecordAsync(documentId, cancellationToken);
        }

        public override ValueTask<bool> CommitAsync(string documentId, DocumentCommit commit, CancellationToken cancellationToken = default)
        {
            if (FailNextCommit is { } failure)
            {
                FailNextCommit = null;
                throw failure;
            }

            return Inner.CommitAsync(documentId, commit, cancellationToken);
        }
    }
}
