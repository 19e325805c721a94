using Realtime.TestSupport;
using static Realtime.Server.Tests.Documents.DocumentHost;

namespace Realtime.Server.Tests.Documents;

/// <summary>Every error the server produces (features doc §3.5, §3.8): the request echoed with <c>error: {code, message}</c>, the
/// connection kept; data that is not an object closes it.</summary>
public sealed class DocumentErrorTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Badly_formed_requests_get_their_codes_and_the_connection_stays(bool compatibility)
    {
        await using KestrelRealtimeHost host = await StartAsync();
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility);

        Assert.Equal("""{"a":9,"error":{"code":6,"message":"Invalid or unknown message"}}""", await a.AskAsync("""{"a":9}"""));
        Assert.Equal("Invalid or unknown message", await a.ExpectErrorAsync("""{"a":1}""", 6)); // fetchOps: never sent by the client
        Assert.Equal("Invalid or unknown message", await a.ExpectErrorAsync("""{"b":1}""", 6));
        Assert.Equal("Invalid version", await a.ExpectErrorAsync("""{"a":5,"seq":1,"v":-1,"op":[]}""", 6));
        Assert.Equal("Invalid version", await a.ExpectErrorAsync("""{"a":5,"seq":1,"v":"1","op":[]}""", 6));
        Assert.Equal("Invalid version", await a.ExpectErrorAsync("""{"a":0,"v":"x"}""", 6));
        Assert.Equal("Invalid op message", await a.ExpectErrorAsync("""{"a":5,"seq":1,"v":0,"x":{}}""", 6));
        await a.ExpectErrorAsync("""{"a":5,"seq":1,"create":"json0"}""", 15);
        await a.ExpectErrorAsync("""{"a":5,"seq":1,"create":{"data":1}}""", 15);
        Assert.Equal("Unknown type", await a.ExpectErrorAsync("""{"a":5,"seq":1,"create":{"type":"nope","data":1}}""", 2));
        await a.ExpectErrorAsync("""{"a":5,"seq":1,"del":1}""", 15);
        await a.ExpectErrorAsync("""{"a":5,"seq":1,"restore":{"data":[]}}""", 29);
        await a.ExpectErrorAsync("""{"a":5,"src":7,"seq":1,"op":[]}""", 15);
        await a.ExpectErrorAsync("""{"a":5,"src":"abc","op":[]}""", 15);
        await a.ExpectErrorAsync("""{"a":5,"seq":"1","op":[]}""", 15);
        await a.ExpectErrorAsync("""{"a":5,"seq":9007199254740991,"op":[]}""", 14);
        await a.ExpectErrorAsync("""{"a":5,"seq":1e300,"op":[]}""", 14);

        // Still connected: a create goes through (seq 1 was never used).
        Assert.Equal(Ack(a.Id, 1, 0), await a.AskAsync(Create(1)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_pipeline_refuses_with_the_codes_of_the_features_doc_and_commits_nothing(bool compatibility)
    {
        await using KestrelRealtimeHost host = await StartAsync();
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility);
        await using DocPeer b = await DocPeer.ConnectAsync(host, compatibility);

        Assert.Equal("Document does not exist", await a.ExpectErrorAsync(Insert(1, 0, 0, "x"), 1));
        Assert.Equal(Ack(a.Id, 2, 0), await a.AskAsync(Create(2)));
        Assert.Equal("Invalid op submitted. Document already created", await b.ExpectErrorAsync(Create(1), 0)); // no v, not a resend
        Assert.Equal("Invalid op submitted. Document already created",
                     await b.ExpectErrorAsync("""{"a":5,"seq":2,"v":1,"create":{"type":"test-list","data":[]}}""", 0));
        Assert.Equal("Document was created remotely", await b.ExpectErrorAsync("""{"a":5,"seq":3,"v":0,"op":[{"i":0,"s":"x"}]}""", 0));
        Assert.Equal("Invalid op submitted. Op version newer than current snapshot", await b.ExpectErrorAsync(Insert(4, 2, 0, "x"), 17));
        Assert.StartsWith("Index 5 is past the end", await b.ExpectErrorAsync(Insert(5, 1, 5, "x"), 9));
        Assert.Equal(Ack(b.Id, 6, 1), await b.AskAsync(Insert(6, 1, 0, "ok"))); // the half-applied snapshot was dropped
        Assert.StartsWith("Op transform failed", await a.ExpectErrorAsync(Insert(3, 1, 0, "boom"), 10));
        Assert.Equal(Snapshot(0, "room1", 2, "ok"), await a.AskAsync("""{"a":0}"""));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Data_that_is_not_an_object_closes_the_connection(bool compatibility)
    {
        await using KestrelRealtimeHost host = await StartAsync();
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility);
        await a.SendAsync("\"{\\\"a\\\":0}\"");
        Assert.True(await host.Connections.WaitForDisconnectAsync(a.Id) is DisconnectReason.ServerDisconnect);
    }

    [Fact]
    public async Task A_store_that_always_loses_the_race_ends_in_code_4_and_a_gap_in_the_log_in_code_13()
    {
        var store = new FlakyStore();
        await using KestrelRealtimeHost host = await StartAsync(o =>
        {
            o.Store = store;
            o.MaxSubmitRetries = 2;
        });
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility: true);
        Assert.Equal(Ack(a.Id, 1, 0), await a.AskAsync(Create(1)));
        await a.AskAsync(Insert(2, 1, 0, "x"));

        store.LoseEveryCommit = true;
        Assert.Equal("Maximum submit retries exceeded", await a.ExpectErrorAsync(Insert(3, 2, 0, "y"), 4));
        Assert.Equal(3, store.Attempts); // the first and two retries

        store.LoseEveryCommit = false;
        store.HideOps = true;
        Assert.StartsWith("Missing operations", await a.ExpectErrorAsync(Insert(4, 1, 0, "y"), 13));
    }

    /// <summary>The in-memory store, made to lose commits or hide its log.</summary>
    private sealed class FlakyStore : DocumentStore
    {
        private readonly InMemoryDocumentStore _inner = new();

        public bool LoseEveryCommit { get; set; }

        public bool HideOps { get; set; }

        public int Attempts { get; private set; }

        public override ValueTask<DocumentRecord?> GetRecordAsync(string documentId, CancellationToken cancellationToken = default) => _inner.GetRecordAsync(documentId, cancellationToken);

        public override ValueTask<StoredSnapshot?> GetSnapshotAsync(string documentId, CancellationToken cancellationToken = default) => _inner.GetSnapshotAsync(documentId, cancellationToken);

        public override async ValueTask<IReadOnlyList<DocumentOperation>> GetOperationsAsync(string documentId, long from, long? to, CancellationToken cancellationToken = default)
            => HideOps ? [] : await _inner.GetOperationsAsync(documentId, from, to, cancellationToken);

        public override ValueTask<DocumentOperation?> FindOperationAsync(string documentId, string source, long sequence, CancellationToken cancellationToken = default)
            => _inner.FindOperationAsync(documentId, source, sequence, cancellationToken);

        public override ValueTask<StoredSnapshot?> GetMilestoneAsync(string documentId, long version, CancellationToken cancellationToken = default)
            => _inner.GetMilestoneAsync(documentId, version, cancellationToken);

        public override ValueTask<long?> TrimAsync(string documentId, DateTimeOffset before, CancellationToken cancellationToken = default)
            => _inner.TrimAsync(documentId, before, cancellationToken);

        public override ValueTask<bool> CommitAsync(string documentId, DocumentCommit commit, CancellationToken cancellationToken = default)
        {
            if (LoseEveryCommit)
            {
                Attempts++;
                return new(false);
            }

            return _inner.CommitAsync(documentId, commit, cancellationToken);
        }

        public override ValueTask<bool> DeleteAsync(string documentId, long expectedVersion, CancellationToken cancellationToken = default)
            => _inner.DeleteAsync(documentId, expectedVersion, cancellationToken);
    }
}
