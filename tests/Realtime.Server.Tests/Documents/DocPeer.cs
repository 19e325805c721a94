using System.Text.Json;
using Realtime.TestSupport;

namespace Realtime.Server.Tests.Documents;

/// <summary>A peer of either wire speaking <c>ot-doc</c>: requests as JSON text, answers parsed.</summary>
internal sealed class DocPeer(IPeer peer) : IAsyncDisposable
{
    public string Id => peer.Id;

    public IPeer Inner => peer;

    public static async Task<DocPeer> ConnectAsync(KestrelRealtimeHost host, bool compatibility, string room = "room1")
        => new(await Peers.ConnectAsync(host, compatibility, room));

    public Task SendAsync(string json) => peer.SendAsync("ot-doc", json);

    /// <summary>The next <c>ot-doc</c> message, as its JSON text with keys in the server's order.</summary>
    public async Task<string> ReceiveAsync()
    {
        (string? type, string data) = await peer.ReceiveAsync();
        Assert.Equal("ot-doc", type);
        return JsonDocument.Parse(data).RootElement.GetRawText();
    }

    public async Task<JsonElement> ReceiveElementAsync() => JsonDocument.Parse(await ReceiveAsync()).RootElement;

    /// <summary>Sends a request and returns the next message.</summary>
    public async Task<string> AskAsync(string json)
    {
        await SendAsync(json);
        return await ReceiveAsync();
    }

    /// <summary>Sends a request and expects an error reply with <paramref name="code"/>: the request echoed with <c>error</c>.</summary>
    public async Task<string> ExpectErrorAsync(string json, int code)
    {
        JsonElement reply = JsonDocument.Parse(await AskAsync(json)).RootElement;
        Assert.True(reply.TryGetProperty("error", out JsonElement error), $"an error reply to {json}, got {reply.GetRawText()}");
        Assert.Equal(code, error.GetProperty("code").GetInt32());
        foreach (JsonProperty property in JsonDocument.Parse(json).RootElement.EnumerateObject())
        {
            Assert.Equal(property.Value.GetRawText(), reply.GetProperty(property.Name).GetRawText()); // the request, echoed
        }

        return error.GetProperty("message").GetString()!;
    }

    public ValueTask DisposeAsync() => peer.DisposeAsync();
}

internal static class DocumentHost
{
    public const string ListUri = "urn:realtime:test-list";

    public static Task<KestrelRealtimeHost> StartAsync(Action<DocumentOptions>? configure = null)
        => KestrelRealtimeHost.StartAsync(configureServer: server => server.UseDocuments(o =>
        {
            o.AddType(TestListType.Instance);
            configure?.Invoke(o);
        }).On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message)));

    /// <summary>A create of a test-list with <paramref name="items"/>, sent as the first op of a fresh client (no v).</summary>
    public static string Create(int seq, params string[] items)
        => $$$"""{"a":5,"seq":{{{seq}}},"x":{},"create":{"type":"test-list","data":{{{JsonSerializer.Serialize(items)}}}}}""";

    public static string Insert(int seq, long v, int index, string text, string? src = null)
        => $$$"""{"a":5,{{{(src is null ? "" : $"\"src\":\"{src}\",")}}}"seq":{{{seq}}},"v":{{{v}}},"x":{},"op":[{"i":{{{index}}},"s":{{{JsonSerializer.Serialize(text)}}}}]}""";

    public static string Ack(string src, int seq, long v) => $$"""{"src":"{{src}}","seq":{{seq}},"v":{{v}},"a":5}""";

    public static string OpMessage(long v, string src, int seq, int index, string text)
        => $$$"""{"a":5,"v":{{{v}}},"src":"{{{src}}}","seq":{{{seq}}},"op":[{"i":{{{index}}},"s":{{{JsonSerializer.Serialize(text)}}}}]}""";

    public static string Snapshot(int a, string room, long v, params string[] items)
        => $$$"""{"data":{"id":"{{{room}}}","v":{{{v}}},"type":"{{{ListUri}}}","data":{{{JsonSerializer.Serialize(items)}}}},"a":{{{a}}}}""";
}
