using Realtime.TestSupport;
using static Realtime.Server.Tests.Documents.DocumentHost;

namespace Realtime.Server.Tests.Documents;

/// <summary>Resends, ops since a version, history snapshots, del, restore and unsubscribe on the wire (features doc §3.4–3.10).</summary>
public sealed class DocumentLifecycleTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_resent_op_is_acknowledged_once_more_and_applied_once(bool compatibility)
    {
        await using KestrelRealtimeHost host = await StartAsync();
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility);
        await using DocPeer b = await DocPeer.ConnectAsync(host, compatibility);
        Assert.Equal(Ack(a.Id, 1, 0), await a.AskAsync(Create(1)));
        Assert.Equal(Snapshot(3, "room1", 1), await b.AskAsync("""{"a":3}"""));
        Assert.Equal(Ack(a.Id, 2, 1), await a.AskAsync(Insert(2, 1, 0, "n")));
        Assert.Equal(OpMessage(1, a.Id, 2, 0, "n"), await b.ReceiveAsync());

        // The ack was lost: the client resends with src, and re-subscribes from its version.
        Assert.Equal(Ack(a.Id, 2, 1), await a.AskAsync(Insert(2, 1, 0, "n", src: a.Id)));
        await a.SendAsync("""{"a":3,"v":1}""");
        Assert.Equal(OpMessage(1, a.Id, 2, 0, "n"), await a.ReceiveAsync());
        Assert.Equal("""{"a":3}""", await a.ReceiveAsync());

        // A create resent without v on the document it created: acknowledged with its version.
        Assert.Equal(Ack(a.Id, 1, 0), await a.AskAsync(Create(1)));

        // Nothing reached b for the resends, and the document holds the op once.
        Assert.Equal(Snapshot(0, "room1", 2, "n"), await b.AskAsync("""{"a":0}"""));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Fetch_and_subscribe_with_a_version_send_the_ops_since_then_and_an_empty_reply(bool compatibility)
    {
        await using KestrelRealtimeHost host = await StartAsync();
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility);
        await using DocPeer b = await DocPeer.ConnectAsync(host, compatibility);
        await a.AskAsync(Create(1));
        await a.AskAsync(Insert(2, 1, 0, "p"));
        await a.AskAsync(Insert(3, 2, 1, "q"));

        await b.SendAsync("""{"a":0,"v":1}""");
        Assert.Equal(OpMessage(1, a.Id, 2, 0, "p"), await b.ReceiveAsync());
        Assert.Equal(OpMessage(2, a.Id, 3, 1, "q"), await b.ReceiveAsync());
        Assert.Equal("""{"a":0}""", await b.ReceiveAsync());
        Assert.Equal("""{"a":0}""", await b.AskAsync("""{"a":0,"v":3}"""));

        await b.SendAsync("""{"a":3,"v":2}""");
        Assert.Equal(OpMessage(2, a.Id, 3, 1, "q"), await b.ReceiveAsync());
        Assert.Equal("""{"a":3}""", await b.ReceiveAsync());
        await a.AskAsync(Insert(4, 3, 0, "r"));
        Assert.Equal(OpMessage(3, a.Id, 4, 0, "r"), await b.ReceiveAsync()); // subscribed now

        // Unsubscribe: no reply, and no more ops (b's next message answers its own fetch).
        await b.SendAsync("""{"a":4}""");
        Assert.Equal("""{"a":0}""", await b.AskAsync("""{"a":0,"v":4}""")); // once b's unsubscribe is handled
        await a.AskAsync(Insert(5, 4, 0, "s"));
        Assert.Equal(Snapshot(0, "room1", 5, "s", "r", "p", "q"), await b.AskAsync("""{"a":0}"""));
    }

    [Theory]
    [InlineData(true, 0)]
    [InlineData(false, 0)]
    [InlineData(true, 2)]
    public async Task History_snapshots_are_rebuilt_from_milestones_and_the_log(bool compatibility, int milestones)
    {
        await using KestrelRealtimeHost host = await StartAsync(o => o.MilestoneInterval = milestones);
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility);
        await a.AskAsync(Create(1, "0"));
        for (int i = 1; i <= 4; i++)
        {
            await a.AskAsync(Insert(i + 1, i, i, i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        Assert.Equal($$$"""{"id":"h1","data":{"id":"room1","v":1,"type":"{{{ListUri}}}","data":["0"]},"a":2}""", await a.AskAsync("""{"a":2,"id":"h1","v":1}"""));
        Assert.Equal($$$"""{"id":"h3","data":{"id":"room1","v":3,"type":"{{{ListUri}}}","data":["0","1","2"]},"a":2}""", await a.AskAsync("""{"a":2,"id":"h3","v":3}"""));
        Assert.Equal($$$"""{"id":"h5","data":{"id":"room1","v":5,"type":"{{{ListUri}}}","data":["0","1","2","3","4"]},"a":2}""", await a.AskAsync("""{"a":2,"id":"h5","v":5}"""));
        Assert.Equal("""{"id":"h0","data":{"id":"room1","v":0},"a":2}""", await a.AskAsync("""{"a":2,"id":"h0","v":0}"""));
        Assert.Equal("Requested version exceeds latest snapshot version", await a.ExpectErrorAsync("""{"a":2,"id":"h6","v":6}""", 17));
        Assert.Equal("Invalid fetch history snapshot message", await a.ExpectErrorAsync("""{"a":2,"id":"hx"}""", 6));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Del_erases_the_document_and_its_history_and_it_can_be_created_again(bool compatibility)
    {
        await using KestrelRealtimeHost host = await StartAsync();
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility);
        await using DocPeer b = await DocPeer.ConnectAsync(host, compatibility);
        await a.AskAsync(Create(1, "x"));
        await a.AskAsync(Insert(2, 1, 0, "y"));
        await b.AskAsync("""{"a":3}""");

        Assert.Equal(Ack(a.Id, 3, 2), await a.AskAsync("""{"a":5,"seq":3,"v":2,"x":{},"del":true}"""));
        Assert.Equal($$$"""{"a":5,"v":2,"src":"{{{a.Id}}}","seq":3,"del":true}""", await b.ReceiveAsync());
        Assert.Equal("""{"data":{"id":"room1","v":0},"a":0}""", await b.AskAsync("""{"a":0}"""));
        Assert.Equal("Requested version exceeds latest snapshot version", await b.ExpectErrorAsync("""{"a":2,"id":"h","v":1}""", 17));
        Assert.Equal("Document does not exist", await a.ExpectErrorAsync("""{"a":5,"seq":4,"v":0,"x":{},"op":[{"i":0,"s":"z"}]}""", 1));
        Assert.Equal("Document does not exist", await a.ExpectErrorAsync("""{"a":5,"seq":5,"x":{},"del":true}""", 1));

        // The subscribers think the version is 3: their create is refused until they fetch again; a fresh create starts at 0.
        Assert.Equal("Invalid op submitted. Op version newer than current snapshot",
                     await b.ExpectErrorAsync("""{"a":5,"seq":1,"v":3,"x":{},"create":{"type":"test-list","data":[]}}""", 17));
        Assert.Equal(Ack(b.Id, 2, 0), await b.AskAsync(Create(2, "again")));
        Assert.Equal(Snapshot(0, "room1", 1, "again"), await a.AskAsync("""{"a":0}"""));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Restore_replaces_the_content_as_a_new_version_and_keeps_the_log(bool compatibility)
    {
        await using KestrelRealtimeHost host = await StartAsync();
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility);
        await using DocPeer b = await DocPeer.ConnectAsync(host, compatibility);
        await a.AskAsync(Create(1, "x"));
        await a.AskAsync(Insert(2, 1, 0, "y"));
        await a.AskAsync(Insert(3, 2, 0, "z"));
        await b.AskAsync("""{"a":3}""");

        Assert.Equal("Target version 3 is invalid. Current version is 3", await a.ExpectErrorAsync("""{"a":5,"seq":4,"v":3,"x":{},"restore":{"v":3,"data":["x"]}}""", 29));
        Assert.StartsWith("Invalid restore message", await a.ExpectErrorAsync("""{"a":5,"seq":4,"v":3,"x":{},"restore":{"v":0,"data":["x"]}}""", 29));
        Assert.Equal("Restore data is missing", await a.ExpectErrorAsync("""{"a":5,"seq":4,"v":3,"x":{},"restore":{"v":1}}""", 30));

        Assert.Equal(Ack(a.Id, 4, 3), await a.AskAsync("""{"a":5,"seq":4,"v":3,"x":{},"restore":{"v":1,"data":["x"]}}"""));
        Assert.Equal($$$"""{"a":5,"v":3,"src":"{{{a.Id}}}","seq":4,"restore":{"v":1,"data":["x"]}}""", await b.ReceiveAsync());
        Assert.Equal(Snapshot(0, "room1", 4, "x"), await b.AskAsync("""{"a":0}"""));
        Assert.Equal($$$"""{"id":"h","data":{"id":"room1","v":3,"type":"{{{ListUri}}}","data":["z","y","x"]},"a":2}""", await b.AskAsync("""{"a":2,"id":"h","v":3}"""));

        // An op written before the restore is refused: the client must fetch again.
        Assert.Equal("Document was restored, please refetch", await b.ExpectErrorAsync(Insert(1, 3, 0, "late"), 32));
    }
}
