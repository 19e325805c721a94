using System.Collections.Concurrent;
using System.Net.WebSockets;

// A text message starting with 'e' is echoed to its sender; any other is sent to every other member of the room
// named by ?room=, one awaited send after another (the naive loop). No heartbeat, no limits, no queue.
WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning); // problems only, on the console
WebApplication app = builder.Build();
var rooms = new ConcurrentDictionary<string, ConcurrentDictionary<Peer, byte>>(StringComparer.Ordinal);
app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
app.Map("/ws", async context =>
{
    if (!context.WebSockets.IsWebSocketRequest)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        return;
    }

    ConcurrentDictionary<Peer, byte> members = rooms.GetOrAdd(context.Request.Query["room"].ToString(), _ => new());
    using WebSocket socket = await context.WebSockets.AcceptWebSocketAsync();
    var self = new Peer(socket);
    members.TryAdd(self, 0);
    byte[] buffer = new byte[4096];
    try
    {
        while (true)
        {
            WebSocketReceiveResult result = await socket.ReceiveAsync(buffer, CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                break;
            }

            if (buffer[0] == (byte)'e')
            {
                await self.SendAsync(buffer.AsMemory(0, result.Count));
                continue;
            }

            byte[] message = buffer.AsSpan(0, result.Count).ToArray();
            foreach (Peer member in members.Keys)
            {
                if (member != self)
                {
                    await member.SendAsync(message);
                }
            }
        }
    }
    catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
    {
        // The client went away.
    }
    finally
    {
        members.TryRemove(self, out _);
    }
});
app.Run();

/// <summary>A socket with a lock, so that several broadcasters never send on it at once.</summary>
internal sealed class Peer(WebSocket socket)
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task SendAsync(ReadOnlyMemory<byte> message)
    {
        await _gate.WaitAsync();
        try
        {
            await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException)
        {
            // A member that went away.
        }
        finally
        {
            _gate.Release();
        }
    }
}
