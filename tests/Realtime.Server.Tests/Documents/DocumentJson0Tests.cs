using Realtime.TestSupport;

namespace Realtime.Server.Tests.Documents;

/// <summary>The captured json0 session of the features doc (§3.5–3.6) against the server's default type.</summary>
public sealed class DocumentJson0Tests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Two_concurrent_json0_list_inserts_converge_with_the_later_one_first(bool compatibility)
    {
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(configureServer: server => server.UseDocuments());
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility);
        await using DocPeer b = await DocPeer.ConnectAsync(host, compatibility);
        const string Uri = "http://sharejs.org/types/JSONv0";

        Assert.Equal(DocumentHost.Ack(a.Id, 1, 0), await a.AskAsync("""{"a":5,"seq":1,"x":{},"create":{"type":"json0","data":{"title":"hello","n":1,"list":[]}}}"""));
        Assert.Equal(DocumentHost.Ack(a.Id, 2, 1), await a.AskAsync("""{"a":5,"seq":2,"v":1,"x":{},"op":[{"p":["n"],"na":5}]}"""));
        Assert.Equal($$$"""{"data":{"id":"room1","v":2,"type":"{{{Uri}}}","data":{"title":"hello","n":6,"list":[]}},"a":3}""", await b.AskAsync("""{"a":3}"""));

        await a.AskAsync("""{"a":3,"v":2}""");
        Assert.Equal(DocumentHost.Ack(a.Id, 3, 2), await a.AskAsync("""{"a":5,"seq":3,"v":2,"x":{},"op":[{"p":["list",0],"li":"a"}]}"""));
        Assert.Equal($$$"""{"a":5,"v":2,"src":"{{{a.Id}}}","seq":3,"op":[{"p":["list",0],"li":"a"}]}""", await b.ReceiveAsync());
        await b.SendAsync("""{"a":5,"seq":1,"v":2,"x":{},"op":[{"p":["list",0],"li":"b"}]}""");
        Assert.Equal($$$"""{"a":5,"v":2,"src":"{{{a.Id}}}","seq":3,"op":[{"p":["list",0],"li":"a"}]}""", await b.ReceiveAsync());
        Assert.Equal(DocumentHost.Ack(b.Id, 1, 3), await b.ReceiveAsync());
        Assert.Equal($$$"""{"a":5,"v":3,"src":"{{{b.Id}}}","seq":1,"op":[{"p":["list",0],"li":"b"}]}""", await a.ReceiveAsync());
        Assert.Equal($$$"""{"data":{"id":"room1","v":4,"type":"{{{Uri}}}","data":{"title":"hello","n":6,"list":["b","a"]}},"a":0}""", await a.AskAsync("""{"a":0}"""));

        // An op json0 cannot apply is code 9 with the type's message.
        await a.ExpectErrorAsync("""{"a":5,"seq":4,"v":4,"x":{},"op":[{"p":["title"],"na":1}]}""", 9);
    }
}
