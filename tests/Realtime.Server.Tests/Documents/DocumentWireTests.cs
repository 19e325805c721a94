using Realtime.TestSupport;
using static Realtime.Server.Tests.Documents.DocumentHost;

namespace Realtime.Server.Tests.Documents;

/// <summary>The document service on the wire, over the compatibility endpoint and protocol v1: the sessions of the features doc §3.</summary>
public sealed class DocumentWireTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Create_fetch_subscribe_op_ack_and_broadcast_play_as_the_original(bool compatibility)
    {
        await using KestrelRealtimeHost host = await StartAsync();
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility);
        await using DocPeer b = await DocPeer.ConnectAsync(host, compatibility);

        Assert.Equal("""{"data":{"id":"room1","v":0},"a":0}""", await a.AskAsync("""{"a":0}"""));
        Assert.Equal("""{"data":{"id":"room1","v":0},"a":3}""", await b.AskAsync("""{"a":3}""")); // subscribed before the document exists

        Assert.Equal(Ack(a.Id, 1, 0), await a.AskAsync(Create(1, "x")));
        Assert.Equal($$$"""{"a":5,"v":0,"src":"{{{a.Id}}}","seq":1,"create":{"type":"{{{ListUri}}}","data":["x"]}}""", await b.ReceiveAsync());

        Assert.Equal(Ack(a.Id, 2, 1), await a.AskAsync(Insert(2, 1, 0, "y")));
        Assert.Equal(OpMessage(1, a.Id, 2, 0, "y"), await b.ReceiveAsync());

        Assert.Equal(Snapshot(0, "room1", 2, "y", "x"), await a.AskAsync("""{"a":0}"""));
        Assert.Equal(Snapshot(3, "room1", 2, "y", "x"), await a.AskAsync("""{"a":3}"""));

        // b's op comes back to a, not to b.
        Assert.Equal(Ack(b.Id, 1, 2), await b.AskAsync(Insert(1, 2, 2, "z")));
        Assert.Equal(OpMessage(2, b.Id, 1, 2, "z"), await a.ReceiveAsync());
        Assert.Equal(Snapshot(0, "room1", 3, "y", "x", "z"), await b.AskAsync("""{"a":0}"""));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_late_op_is_transformed_the_submitter_gets_what_it_was_transformed_against_then_its_ack(bool compatibility)
    {
        await using KestrelRealtimeHost host = await StartAsync();
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility);
        await using DocPeer b = await DocPeer.ConnectAsync(host, compatibility);
        Assert.Equal(Ack(a.Id, 1, 0), await a.AskAsync(Create(1)));
        Assert.Equal(Snapshot(3, "room1", 1), await a.AskAsync("""{"a":3}"""));
        Assert.Equal(Snapshot(3, "room1", 1), await b.AskAsync("""{"a":3}"""));

        // Both insert at 0 at version 1; a's reaches the server first.
        Assert.Equal(Ack(a.Id, 2, 1), await a.AskAsync(Insert(2, 1, 0, "a")));
        Assert.Equal(OpMessage(1, a.Id, 2, 0, "a"), await b.ReceiveAsync()); // the broadcast
        await b.SendAsync(Insert(1, 1, 0, "b"));
        Assert.Equal(OpMessage(1, a.Id, 2, 0, "a"), await b.ReceiveAsync()); // again: what b's op was transformed against
        Assert.Equal(Ack(b.Id, 1, 2), await b.ReceiveAsync());
        Assert.Equal(OpMessage(2, b.Id, 1, 0, "b"), await a.ReceiveAsync()); // the later op goes first at a tie (side left)

        Assert.Equal(Snapshot(0, "room1", 3, "b", "a"), await a.AskAsync("""{"a":0}"""));
    }
}
