using System.Text;
using System.Text.Json.Nodes;
using Realtime.TestSupport;

namespace Realtime.Server.Tests.Documents;

/// <summary>The snapshot depth limit: a document stays readable from the store and by clients of both wires.</summary>
public sealed class DocumentDepthTests
{
    private const int Limit = 48;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_snapshot_at_the_depth_limit_reaches_both_wires_and_a_deeper_one_is_refused_with_1000(bool compatibility)
    {
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(configureServer: server => server.UseDocuments());
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility);
        await using DocPeer b = await DocPeer.ConnectAsync(host, !compatibility);
        Assert.Equal(DocumentHost.Ack(a.Id, 1, 0), await a.AskAsync($$$"""{"a":5,"seq":1,"x":{},"create":{"type":"json0","data":{{{Nested(Limit)}}}}}"""));

        string deepest = string.Join(",", Enumerable.Repeat("\"k\"", Limit - 1));
        Assert.Equal("Snapshot too deep: more than 48 levels of nested arrays and objects (the limit of documents)",
                     await a.ExpectErrorAsync($$$"""{"a":5,"seq":2,"v":1,"x":{},"op":[{"p":[{{{deepest}}},"k"],"oi":{}}]}""", 1000));
        Assert.Equal(DocumentHost.Ack(a.Id, 3, 1), await a.AskAsync($$$"""{"a":5,"seq":3,"v":1,"x":{},"op":[{"p":[{{{deepest}}},"n"],"oi":1}]}"""));

        string expected = Nested(Limit, """{"n":1}""");
        foreach (DocPeer peer in new[] { a, b })
        {
            Assert.Equal($$$"""{"data":{"id":"room1","v":2,"type":"http://sharejs.org/types/JSONv0","data":{{{expected}}}},"a":0}""",
                         await peer.AskAsync("""{"a":0}"""));
        }

        DocumentService documents = host.Server.GetDocumentService();
        Assert.Equal(expected, (await documents.FetchAsync("room1")).Data!.ToJsonString());
        Assert.Equal(1000, (await Assert.ThrowsAsync<DocumentException>(() => documents.CreateAsync("deeper", "json0", JsonNode.Parse(Nested(Limit + 1))))).Code);
        Assert.Equal(0, (await documents.FetchAsync("deeper")).Version);
    }

    /// <summary><paramref name="depth"/> nested objects <c>{"k":…}</c>, the innermost <paramref name="inner"/>.</summary>
    private static string Nested(int depth, string inner = "{}")
    {
        var json = new StringBuilder();
        json.Insert(0, "{\"k\":", depth - 1).Append(inner).Append('}', depth - 1);
        return json.ToString();
    }
}
