using System.Net.WebSockets;
using System.Text;

namespace Realtime.LoadTest;

/// <summary>Whole WebSocket messages for the load clients: received into a buffer that grows to fit, and handshake text.</summary>
internal static class WebSocketMessages
{
    /// <summary>Receives one whole message into <paramref name="buffer"/> (grown, doubling, when it does not fit).</summary>
    /// <returns>The message's length and type (<see cref="WebSocketMessageType.Close"/> when the peer closed).</returns>
    public static async ValueTask<(int Count, WebSocketMessageType Type)> ReceiveAsync(WebSocket socket, Ref<byte[]> buffer, CancellationToken cancellationToken)
    {
        int count = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            if (count == buffer.Value.Length)
            {
                Array.Resize(ref buffer.Value, buffer.Value.Length * 2);
            }

            result = await socket.ReceiveAsync(buffer.Value.AsMemory(count), cancellationToken);
            count += result.Count;
        }
        while (!result.EndOfMessage);

        return (count, result.MessageType);
    }

    /// <summary>One text message of a handshake.</summary>
    /// <exception cref="InvalidOperationException">The server closed instead.</exception>
    public static async Task<string> ReceiveTextAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new Ref<byte[]>(new byte[8192]);
        (int count, WebSocketMessageType type) = await ReceiveAsync(socket, buffer, cancellationToken);
        return type == WebSocketMessageType.Close
            ? throw new InvalidOperationException($"The server closed during the handshake ({socket.CloseStatus}).")
            : Encoding.UTF8.GetString(buffer.Value, 0, count);
    }

    public static Task SendTextAsync(WebSocket socket, string text, CancellationToken cancellationToken)
        => socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cancellationToken);
}

/// <summary>A value an async method may replace (a buffer it grows).</summary>
internal sealed class Ref<T>(T value)
{
    public T Value = value;
}
