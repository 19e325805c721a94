using System.Text.Json;
using Realtime.TestSupport;

namespace Realtime.Server.Sqlite.Tests;

/// <summary>A protocol v1 client speaking <c>ot-doc</c> (docs/protocol.md §8) in one room: requests as JSON text, answers parsed.</summary>
internal sealed class OtDocClient(RawProtocolClient client) : IAsyncDisposable
{
    /// <summary>The connection id: the <c>src</c> of this client's ops.</summary>
    public string Id => client.ConnectionId!;

    public static async Task<OtDocClient> ConnectAsync(string url, string room)
        => new(await RawProtocolClient.ConnectWelcomedAsync(url, "roomId=" + Uri.EscapeDataString(room)));

    public Task SendAsync(string json) => client.SendTextAsync($$"""{"t":"msg","type":"ot-doc","data":{{json}}}""");

    /// <summary>The next <c>ot-doc</c> message's data.</summary>
    public async Task<JsonElement> ReceiveAsync()
    {
        using JsonDocument frame = JsonDocument.Parse(await client.ReceiveStartingWithAsync("{\"t\":\"msg\""));
        Assert.Equal("ot-doc", frame.RootElement.GetProperty("type").GetString());
        return frame.RootElement.GetProperty("data").Clone();
    }

    /// <summary>Sends a request and returns the next message.</summary>
    public async Task<JsonElement> AskAsync(string json)
    {
        await SendAsync(json);
        return await ReceiveAsync();
    }

    /// <summary>Submits and expects the ack at <paramref name="version"/>.</summary>
    public async Task SubmitAsync(string json, long version)
    {
        JsonElement ack = await AskAsync(json);
        Assert.False(ack.TryGetProperty("error", out JsonElement error), $"an ack, got the error {error}");
        Assert.Equal((5, version), (ack.GetProperty("a").GetInt32(), ack.GetProperty("v").GetInt64()));
    }

    /// <summary>Every committed op from version 0, in order (a fetch with <c>v</c>), and the fetched document.</summary>
    public async Task<(List<JsonElement> Ops, JsonElement Snapshot)> FetchAllAsync()
    {
        JsonElement snapshot = (await AskAsync("""{"a":0}""")).GetProperty("data");
        await SendAsync("""{"a":0,"v":0}""");
        var ops = new List<JsonElement>();
        for (JsonElement message = await ReceiveAsync(); message.TryGetProperty("v", out _); message = await ReceiveAsync())
        {
            ops.Add(message);
        }

        return (ops, snapshot);
    }

    public ValueTask DisposeAsync() => client.DisposeAsync();
}
