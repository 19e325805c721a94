using System.Text.Json;
using Realtime.TestSupport;

namespace Realtime.Server.Tests;

/// <summary>One client of either wire (protocol v1, or the compatibility endpoint's Socket.IO framing): messages as (type, data JSON).</summary>
internal interface IPeer : IAsyncDisposable
{
    string Id { get; }

    Task SendAsync(string type, string dataJson);

    /// <summary>The next application message (the protocol's own packets are skipped).</summary>
    Task<(string? Type, string Data)> ReceiveAsync();

    /// <summary>The next refusal of a message (v1 <c>error</c>, or <c>message_error</c>): its text.</summary>
    Task<string> ReceiveErrorAsync();

    /// <summary>Drops the transport without a close handshake.</summary>
    void Abort();
}

internal static class Peers
{
    public static async Task<IPeer> ConnectAsync(KestrelRealtimeHost host, bool compatibility, string roomId)
    {
        if (!compatibility)
        {
            return new V1Peer(await RawProtocolClient.ConnectWelcomedAsync(host.Url, "roomId=" + Uri.EscapeDataString(roomId)));
        }

        string id = SocketIoTestClient.NewId();
        return new CompatibilityPeer(await SocketIoTestClient.ConnectAcceptedAsync(host.CollaborationUrl, id, roomId), id);
    }

    private sealed class V1Peer(RawProtocolClient client) : IPeer
    {
        public string Id => client.ConnectionId!;

        public Task SendAsync(string type, string dataJson) => client.SendTextAsync($$"""{"t":"msg","type":{{JsonSerializer.Serialize(type)}},"data":{{dataJson}}}""");

        public async Task<(string? Type, string Data)> ReceiveAsync()
        {
            JsonElement frame = JsonDocument.Parse(await client.ReceiveStartingWithAsync("{\"t\":\"msg\"")).RootElement;
            return (frame.TryGetProperty("type", out JsonElement type) ? type.GetString() : null, frame.GetProperty("data").GetRawText());
        }

        public async Task<string> ReceiveErrorAsync()
            => JsonDocument.Parse(await client.ReceiveStartingWithAsync("{\"t\":\"error\"")).RootElement.GetProperty("message").GetString()!;

        public void Abort() => client.Socket.Abort();

        public ValueTask DisposeAsync() => client.DisposeAsync();
    }

    private sealed class CompatibilityPeer(SocketIoTestClient client, string id) : IPeer
    {
        public string Id => id;

        public Task SendAsync(string type, string dataJson) => client.SendMessageAsync(type, dataJson);

        public async Task<(string? Type, string Data)> ReceiveAsync()
        {
            (string? type, string data, _) = await client.ReceiveMessageAsync();
            return (type, data);
        }

        public async Task<string> ReceiveErrorAsync()
            => JsonDocument.Parse((await client.ReceiveStartingWithAsync("42[\"message_error\"")).AsMemory(2)).RootElement[1].GetString()!;

        public void Abort() => client.Socket.Abort();

        public ValueTask DisposeAsync() => client.DisposeAsync();
    }
}
