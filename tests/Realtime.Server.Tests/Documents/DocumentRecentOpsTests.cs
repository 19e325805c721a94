using System.Text.Json;
using Realtime.TestSupport;
using static Realtime.Server.Tests.Documents.DocumentHost;

namespace Realtime.Server.Tests.Documents;

/// <summary>The ops a document keeps from its last commits are used only while they are all of the log: another node's commit to a
/// shared store is read from the store.</summary>
public sealed class DocumentRecentOpsTests
{
    [Fact]
    public async Task A_late_op_is_transformed_against_what_another_node_committed_to_the_shared_store()
    {
        await using TwoNodes nodes = await TwoNodesAsync(); // node one holds ["x","a1"] at version 2
        (KestrelRealtimeHost one, KestrelRealtimeHost two, DocPeer a, DocPeer b) = (nodes.One, nodes.Two, nodes.A, nodes.B);
        Assert.Equal(Ack(b.Id, 1, 2), await b.AskAsync(Insert(1, 2, 0, "b1"))); // on the other node: [b1, x, a1]

        // a has not seen b1: its op at version 2 is transformed against it (and gets it first), then acknowledged at 3.
        JsonElement theirs = JsonDocument.Parse(await a.AskAsync(Insert(3, 2, 2, "a2"))).RootElement;
        Assert.Equal(2, theirs.GetProperty("v").GetInt64());
        Assert.Equal(b.Id, theirs.GetProperty("src").GetString());
        Assert.Equal(Ack(a.Id, 3, 3), await a.ReceiveAsync());

        // And a later op of a, behind by one op committed on its own node, still transforms right.
        Assert.Equal(Ack(b.Id, 2, 4), await b.AskAsync(Insert(2, 4, 4, "b2")));
        Assert.Equal(Snapshot(0, "room1", 5, "b1", "x", "a1", "a2", "b2"), await a.AskAsync("""{"a":0}"""));
        Assert.Equal(Snapshot(0, "room1", 5, "b1", "x", "a1", "a2", "b2"), await b.AskAsync("""{"a":0}"""));
    }

    [Fact]
    public async Task A_document_deleted_and_created_again_on_another_node_is_not_taken_for_the_one_before()
    {
        await using TwoNodes nodes = await TwoNodesAsync(); // node one holds ["x","a1"] at version 2
        (KestrelRealtimeHost one, KestrelRealtimeHost two, DocPeer a, DocPeer b) = (nodes.One, nodes.Two, nodes.A, nodes.B);

        // Node two deletes it, creates it again and commits one op: version 2 again, another document.
        Assert.Equal(Ack(b.Id, 1, 2), await b.AskAsync("""{"a":5,"seq":1,"v":2,"x":{},"del":true}"""));
        Assert.Equal(Ack(b.Id, 2, 0), await b.AskAsync(Create(2, "y")));
        Assert.Equal(Ack(b.Id, 3, 1), await b.AskAsync(Insert(3, 1, 1, "b1")));

        // a's op, written against version 2, lands on the new document as it is in the store.
        Assert.Equal(Ack(a.Id, 3, 2), await a.AskAsync(Insert(3, 2, 2, "a2")));
        Assert.Equal(Snapshot(0, "room1", 3, "y", "b1", "a2"), await a.AskAsync("""{"a":0}"""));
        Assert.Equal("""["y","b1","a2"]""", (await one.Server.GetDocumentService().FetchAsync("room1")).Data!.ToJsonString());
        Assert.Equal("""["y","b1","a2"]""", (await two.Server.GetDocumentService().FetchAsync("room1")).Data!.ToJsonString());
    }

    /// <summary>Two nodes on one store, a peer on each (a on one, b on two), and a document a created and edited: ["x","a1"] at version 2.</summary>
    private static async Task<TwoNodes> TwoNodesAsync()
    {
        var store = new InMemoryDocumentStore();
        KestrelRealtimeHost one = await StartAsync(o => o.Store = store);
        KestrelRealtimeHost two = await StartAsync(o => o.Store = store);
        var nodes = new TwoNodes(one, two, await DocPeer.ConnectAsync(one, compatibility: true), await DocPeer.ConnectAsync(two, compatibility: false));
        Assert.Equal(Ack(nodes.A.Id, 1, 0), await nodes.A.AskAsync(Create(1, "x")));
        Assert.Equal(Ack(nodes.A.Id, 2, 1), await nodes.A.AskAsync(Insert(2, 1, 1, "a1")));
        return nodes;
    }

    private sealed record TwoNodes(KestrelRealtimeHost One, KestrelRealtimeHost Two, DocPeer A, DocPeer B) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await A.DisposeAsync();
            await B.DisposeAsync();
            await One.DisposeAsync();
            await Two.DisposeAsync();
        }
    }
}
