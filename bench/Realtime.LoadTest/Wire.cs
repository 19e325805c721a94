using System.Net.WebSockets;
using System.Text;

namespace Realtime.LoadTest;

/// <summary>One system's wire protocol, as far as the scenarios need it: connect, echo, broadcast, answer heartbeats.</summary>
internal abstract class Wire
{
    public abstract string Name { get; }

    public virtual string[] SubProtocols => [];

    public abstract Uri Url(int port, string room);

    /// <summary>Runs the system's handshake on a fresh socket, before the client's receive loop starts.</summary>
    public virtual Task HandshakeAsync(WebSocket socket, CancellationToken cancellationToken) => Task.CompletedTask;

    public abstract byte[] Echo(string payload);

    public abstract byte[] Broadcast(string payload);

    /// <summary>The answer to a heartbeat in <paramref name="message"/>, or <see langword="null"/>.</summary>
    public abstract byte[]? HeartbeatReply(ReadOnlySpan<byte> message);

    public static Wire For(string system) => system switch
    {
        "realtime" => new RealtimeWire("Realtime"),
        "dense" => new RealtimeWire("Realtime (dense)"),
        "history" => new RealtimeWire("Realtime (history)", recover: true),
        "signalr" => new SignalRWire(),
        "raw" => new RawWire("Raw (naive)"),
        "strong" => new RawWire("Raw (strong)"),
        "socketio" => new SocketIoWire(),
        "compat" => new JsCollaborationWire(),
        _ => throw new ArgumentException($"Unknown system '{system}' (realtime, dense, history, compat, signalr, raw, strong, socketio)."),
    };

    protected static Task<string> ReceiveTextAsync(WebSocket socket, CancellationToken cancellationToken)
        => WebSocketMessages.ReceiveTextAsync(socket, cancellationToken);

    protected static Task SendTextAsync(WebSocket socket, string text, CancellationToken cancellationToken)
        => WebSocketMessages.SendTextAsync(socket, text, cancellationToken);
}

/// <summary>Realtime's protocol v1, through <c>MapRealtime</c> or on the dense listener (the same wire).</summary>
/// <param name="name">The system's name in the tables.</param>
/// <param name="recover">Whether the clients ask for recovery (<c>"recover":true</c>): in a room that keeps a history, every broadcast they receive then carries its position.</param>
internal sealed class RealtimeWire(string name, bool recover = false) : Wire
{
    private static readonly byte[] Pong = "{\"t\":\"pong\"}"u8.ToArray();

    public override string Name => name;

    public override string[] SubProtocols => ["realtime.v1"];

    public override Uri Url(int port, string room) => new($"ws://127.0.0.1:{port}/realtime?roomId={room}");

    public override async Task HandshakeAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        await SendTextAsync(socket, recover ? "{\"t\":\"hello\",\"recover\":true}" : "{\"t\":\"hello\"}", cancellationToken);
        string welcome = await ReceiveTextAsync(socket, cancellationToken);
        if (!welcome.StartsWith("{\"t\":\"welcome\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("Expected welcome, got " + welcome);
        }
    }

    public override byte[] Echo(string payload) => Encoding.UTF8.GetBytes($"{{\"t\":\"msg\",\"type\":\"echo\",\"data\":\"{payload}\"}}");

    public override byte[] Broadcast(string payload) => Encoding.UTF8.GetBytes($"{{\"t\":\"msg\",\"type\":\"b\",\"data\":\"{payload}\"}}");

    public override byte[]? HeartbeatReply(ReadOnlySpan<byte> message) => message.SequenceEqual("{\"t\":\"ping\"}"u8) ? Pong : null;
}

internal sealed class SignalRWire : Wire
{
    private const char RecordSeparator = '\u001e';
    private static readonly byte[] Ping = "{\"type\":6}\u001e"u8.ToArray();

    public override string Name => "SignalR";

    public override Uri Url(int port, string room) => new($"ws://127.0.0.1:{port}/hub?room={room}");

    public override async Task HandshakeAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        await SendTextAsync(socket, "{\"protocol\":\"json\",\"version\":1}" + RecordSeparator, cancellationToken);
        string answer = await ReceiveTextAsync(socket, cancellationToken);
        if (!answer.StartsWith("{}", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("SignalR handshake failed: " + answer);
        }
    }

    public override byte[] Echo(string payload) => Encoding.UTF8.GetBytes($"{{\"type\":1,\"target\":\"Echo\",\"arguments\":[\"{payload}\"]}}{RecordSeparator}");

    public override byte[] Broadcast(string payload) => Encoding.UTF8.GetBytes($"{{\"type\":1,\"target\":\"Broadcast\",\"arguments\":[\"{payload}\"]}}{RecordSeparator}");

    // The server's keep-alive; answering it keeps the client's side of SignalR's timeout alive too.
    public override byte[]? HeartbeatReply(ReadOnlySpan<byte> message) => message.IndexOf("{\"type\":6}"u8) >= 0 ? Ping : null;
}

/// <summary>
/// Both raw Kestrel references: 'e' echoes, any other first letter broadcasts. The strong one sends "ping" every 5 s and
/// expects an answer ('h') within 10 s; the naive one sends no heartbeat.
/// </summary>
internal sealed class RawWire(string name) : Wire
{
    private static readonly byte[] Pong = "h"u8.ToArray();

    public override string Name => name;

    public override Uri Url(int port, string room) => new($"ws://127.0.0.1:{port}/ws?room={room}");

    public override byte[] Echo(string payload) => Encoding.UTF8.GetBytes("e" + payload);

    public override byte[] Broadcast(string payload) => Encoding.UTF8.GetBytes("b" + payload);

    public override byte[]? HeartbeatReply(ReadOnlySpan<byte> message) => message.SequenceEqual("ping"u8) ? Pong : null;
}

/// <summary>
/// The original JavaScript collaboration framework's wire format, on Realtime's compatibility endpoint: Engine.IO v4 and Socket.IO v5
/// with the <c>m</c> event, and a client-chosen id per connection (100-character payloads stay below the 128-byte compression rule).
/// </summary>
internal sealed class JsCollaborationWire : Wire
{
    private static readonly byte[] Pong = "3"u8.ToArray();

    public override string Name => "Realtime (JS compat)";

    /// <summary>A new connection's URL, with a fresh 20-character id of the client's choosing (hexadecimal digits are in the id alphabet).</summary>
    public override Uri Url(int port, string room)
        => new($"ws://127.0.0.1:{port}/collaboration/?EIO=4&transport=websocket&id={Guid.NewGuid().ToString("N")[..20]}&roomId={room}");

    public override Task HandshakeAsync(WebSocket socket, CancellationToken cancellationToken) => SocketIoWire.ConnectAsync(socket, cancellationToken);

    public override byte[] Echo(string payload) => Encoding.UTF8.GetBytes($"42[\"m\",[\"echo\",\"{payload}\",false]]");

    public override byte[] Broadcast(string payload) => Encoding.UTF8.GetBytes($"42[\"m\",[\"b\",\"{payload}\",false]]");

    public override byte[]? HeartbeatReply(ReadOnlySpan<byte> message) => message.SequenceEqual("2"u8) ? Pong : null;
}

internal sealed class SocketIoWire : Wire
{
    private static readonly byte[] Pong = "3"u8.ToArray();

    public override string Name => "Socket.IO";

    public override Uri Url(int port, string room) => new($"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket&room={room}");

    public override Task HandshakeAsync(WebSocket socket, CancellationToken cancellationToken) => ConnectAsync(socket, cancellationToken);

    /// <summary>The Engine.IO open packet, then CONNECT to the default namespace and its accept.</summary>
    public static async Task ConnectAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        string open = await ReceiveTextAsync(socket, cancellationToken); // 0{"sid":…}
        if (!open.StartsWith('0'))
        {
            throw new InvalidOperationException("Engine.IO open expected, got " + open);
        }

        await SendTextAsync(socket, "40", cancellationToken); // connect to the default namespace
        string connected = await ReceiveTextAsync(socket, cancellationToken);
        if (!connected.StartsWith("40", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("Socket.IO connect expected, got " + connected);
        }
    }

    public override byte[] Echo(string payload) => Encoding.UTF8.GetBytes($"42[\"echo\",\"{payload}\"]");

    public override byte[] Broadcast(string payload) => Encoding.UTF8.GetBytes($"42[\"b\",\"{payload}\"]");

    public override byte[]? HeartbeatReply(ReadOnlySpan<byte> message) => message.SequenceEqual("2"u8) ? Pong : null;
}
