using System.IO.Compression;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Realtime.LoadTest;

/// <summary>What a document message is about, whichever wire carried it.</summary>
internal enum DocumentMessageAction
{
    Other,
    Fetch,
    Subscribe,
    Op,
}

/// <summary>
/// The fields of one document message that the benchmark reads: the action, the op's version, its <c>src</c> and <c>seq</c>,
/// whether it carries an op (or create/del/restore: otherwise an op-action message is an ack), an error, and a snapshot's
/// version and counter (<c>data.v</c>, <c>data.data.n</c>) in a fetch or subscribe reply.
/// </summary>
internal readonly record struct DocumentMessage(DocumentMessageAction Action, long? Version, long? Seq, string? Src, bool CarriesOp, string? Error, long? SnapshotVersion, long? SnapshotCounter)
{
    /// <summary>Reads the JSON object at the reader's position (its <see cref="JsonTokenType.StartObject"/>).</summary>
    public static DocumentMessage Read(ref Utf8JsonReader reader)
    {
        DocumentMessageAction action = DocumentMessageAction.Other;
        long? version = null, seq = null, snapshotVersion = null, counter = null;
        string? src = null, error = null;
        bool carriesOp = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string name = reader.GetString()!;
            reader.Read();
            switch (name)
            {
                case "a":
                    action = reader.TokenType == JsonTokenType.Number
                        ? reader.GetInt32() switch { 0 => DocumentMessageAction.Fetch, 3 => DocumentMessageAction.Subscribe, 5 => DocumentMessageAction.Op, _ => DocumentMessageAction.Other }
                        : reader.GetString() switch { "f" => DocumentMessageAction.Fetch, "s" => DocumentMessageAction.Subscribe, "op" => DocumentMessageAction.Op, _ => DocumentMessageAction.Other };
                    break;
                case "v" when reader.TokenType == JsonTokenType.Number:
                    version = reader.GetInt64();
                    break;
                case "seq" when reader.TokenType == JsonTokenType.Number:
                    seq = reader.GetInt64();
                    break;
                case "src" when reader.TokenType == JsonTokenType.String:
                    src = reader.GetString();
                    break;
                case "op" or "create" or "del" or "restore":
                    carriesOp = true;
                    reader.Skip();
                    break;
                case "error":
                    error = Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(JsonElement.ParseValue(ref reader)));
                    break;
                case "data" when reader.TokenType == JsonTokenType.StartObject:
                    (snapshotVersion, counter) = ReadSnapshot(ref reader);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return new(action, version, seq, src, carriesOp, error, snapshotVersion, counter);
    }

    /// <summary>A snapshot <c>{v, data: {n}, …}</c>: its version and its counter.</summary>
    private static (long? Version, long? Counter) ReadSnapshot(ref Utf8JsonReader reader)
    {
        long? version = null, counter = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string name = reader.GetString()!;
            reader.Read();
            if (name == "v" && reader.TokenType == JsonTokenType.Number)
            {
                version = reader.GetInt64();
            }
            else if (name == "data" && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    bool isCounter = reader.ValueTextEquals("n"u8);
                    reader.Read();
                    if (isCounter && reader.TokenType == JsonTokenType.Number)
                    {
                        counter = reader.GetInt64();
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return (version, counter);
    }
}

/// <summary>
/// A document protocol as far as the benchmark needs it: connect, subscribe, create, submit a json0 op, fetch, and read
/// the replies. One connection edits one document.
/// </summary>
internal abstract class DocumentWire
{
    /// <summary>The system's name in the tables.</summary>
    public abstract string Name { get; }

    /// <summary>The <see cref="ServerProcess"/> system that serves this wire.</summary>
    public abstract string ServerSystem { get; }

    /// <summary>
    /// The folder under bench/peers of a Node driver that generates the load instead of <see cref="DocumentClient"/>, or
    /// <see langword="null"/>: the original server admits only its own client's connections (see ot-original/driver.js).
    /// </summary>
    public virtual string? NodeDriver => null;

    /// <summary>How many server processes serve the system (two share one redis-server and one PostgreSQL).</summary>
    public virtual int Nodes => 1;

    /// <summary>The URL of a connection to <paramref name="document"/>, with the client-chosen 20-character <paramref name="connectionId"/> where the wire has one.</summary>
    public abstract Uri Url(int port, string document, string connectionId);

    /// <summary>Runs the handshake on a fresh socket; returns the connection's <c>src</c> (the id the server puts on its ops).</summary>
    public abstract Task<string> HandshakeAsync(WebSocket socket, string connectionId, CancellationToken cancellationToken);

    public abstract byte[] Subscribe(string document);

    public abstract byte[] Fetch(string document);

    /// <summary>A create of a json0 document whose data is <paramref name="data"/> (JSON).</summary>
    public abstract byte[] Create(string document, long seq, string data);

    /// <summary>An op (a json0 op, JSON) written against <paramref name="version"/>.</summary>
    public abstract byte[] Op(string document, long version, long seq, string op);

    /// <summary>The answer to a heartbeat in <paramref name="message"/>, or <see langword="null"/>.</summary>
    public abstract byte[]? HeartbeatReply(ReadOnlySpan<byte> message);

    /// <summary>The document message in <paramref name="message"/>, or <see langword="null"/> for anything else.</summary>
    public abstract DocumentMessage? Parse(ReadOnlySpan<byte> message);

    public static DocumentWire For(string system) => system switch
    {
        "realtime" => new OtDocWire("Realtime", "documents"),
        "realtime-node" => new OtDocWire("Realtime (Node driver)", "documents", "ot-original"),
        "realtime-2" => new OtDocWire("Realtime, two nodes", "documents", nodes: 2),
        "original" => new OtDocWire("original (Node)", "ot-original", "ot-original"),
        "sharedb" => new ShareDbWire(),
        _ => throw new ArgumentException($"Unknown document system '{system}' (realtime, realtime-node, realtime-2, original, sharedb)."),
    };

    protected static Task<string> ReceiveTextAsync(WebSocket socket, CancellationToken cancellationToken)
        => WebSocketMessages.ReceiveTextAsync(socket, cancellationToken);

    protected static Task SendTextAsync(WebSocket socket, string text, CancellationToken cancellationToken)
        => WebSocketMessages.SendTextAsync(socket, text, cancellationToken);
}

/// <summary>
/// The original framework's wire (features doc §3): Engine.IO v4 and Socket.IO v5, the <c>m</c> event carrying
/// <c>["ot-doc", {…}, compressed]</c>; the document is the room. The same bytes reach the original's Node server and
/// Realtime's compatibility endpoint.
/// </summary>
internal sealed class OtDocWire(string name, string serverSystem, string? nodeDriver = null, int nodes = 1) : DocumentWire
{
    private static readonly byte[] Pong = "3"u8.ToArray();

    public override string Name => name;

    public override string ServerSystem => serverSystem;

    public override string? NodeDriver => nodeDriver;

    public override int Nodes => nodes;

    public override Uri Url(int port, string document, string connectionId)
        => new($"ws://127.0.0.1:{port}/collaboration/?EIO=4&transport=websocket&id={connectionId}&roomId={document}");

    public override async Task<string> HandshakeAsync(WebSocket socket, string connectionId, CancellationToken cancellationToken)
    {
        await SocketIoWire.ConnectAsync(socket, cancellationToken);
        return connectionId; // the client-chosen id of the query is the src of its ops
    }

    public override byte[] Subscribe(string document) => Frame("{\"a\":3}");

    public override byte[] Fetch(string document) => Frame("{\"a\":0}");

    public override byte[] Create(string document, long seq, string data)
        => Frame($"{{\"a\":5,\"seq\":{seq},\"v\":0,\"x\":{{}},\"create\":{{\"type\":\"json0\",\"data\":{data}}}}}");

    public override byte[] Op(string document, long version, long seq, string op)
        => Frame($"{{\"a\":5,\"seq\":{seq},\"v\":{version},\"x\":{{}},\"op\":{op}}}");

    public override byte[]? HeartbeatReply(ReadOnlySpan<byte> message) => message.SequenceEqual("2"u8) ? Pong : null;

    /// <summary><c>42["m",["ot-doc",{…},false]]</c>, or with <c>true</c> and the base64 of the gzipped JSON.</summary>
    public override DocumentMessage? Parse(ReadOnlySpan<byte> message)
    {
        if (!message.StartsWith("42[\"m\",[\"ot-doc\","u8))
        {
            return null;
        }

        var reader = new Utf8JsonReader(message[2..]);
        reader.Read(); // [
        reader.Read(); // "m"
        reader.Read(); // [
        reader.Read(); // "ot-doc"
        reader.Read(); // the data: an object, or a base64 string when compressed
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            return DocumentMessage.Read(ref reader);
        }

        byte[] inflated = Inflate(reader.GetBytesFromBase64());
        var inner = new Utf8JsonReader(inflated);
        inner.Read();
        return DocumentMessage.Read(ref inner);
    }

    private static byte[] Frame(string json) => Encoding.UTF8.GetBytes($"42[\"m\",[\"ot-doc\",{json},false]]");

    private static byte[] Inflate(byte[] gzip)
    {
        using var input = new GZipStream(new MemoryStream(gzip), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }
}

/// <summary>
/// ShareDB's own protocol (its <c>lib/agent.js</c>): one JSON object per WebSocket message; the server's <c>init</c>,
/// then handshake <c>hs</c>, subscribe <c>s</c>, fetch <c>f</c>, and <c>op</c> with <c>c</c>/<c>d</c>/<c>v</c>/<c>seq</c>
/// (the server adds <c>src</c>, the agent's id); the ack is an <c>op</c> message without an op. Collection "bench".
/// </summary>
internal sealed class ShareDbWire : DocumentWire
{
    public override string Name => "ShareDB";

    public override string ServerSystem => "sharedb";

    public override Uri Url(int port, string document, string connectionId) => new($"ws://127.0.0.1:{port}/");

    public override async Task<string> HandshakeAsync(WebSocket socket, string connectionId, CancellationToken cancellationToken)
    {
        string init = await ReceiveTextAsync(socket, cancellationToken); // the legacy init, sent before anything
        if (!init.Contains("\"a\":\"init\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("ShareDB init expected, got " + init);
        }

        await SendTextAsync(socket, "{\"a\":\"hs\",\"id\":null,\"protocol\":1,\"protocolMinor\":1}", cancellationToken);
        string answer = await ReceiveTextAsync(socket, cancellationToken);
        using JsonDocument hs = JsonDocument.Parse(answer);
        return hs.RootElement.GetProperty("a").GetString() == "hs"
            ? hs.RootElement.GetProperty("id").GetString()!
            : throw new InvalidOperationException("ShareDB handshake expected, got " + answer);
    }

    public override byte[] Subscribe(string document) => Encoding.UTF8.GetBytes($"{{\"a\":\"s\",\"c\":\"bench\",\"d\":\"{document}\"}}");

    public override byte[] Fetch(string document) => Encoding.UTF8.GetBytes($"{{\"a\":\"f\",\"c\":\"bench\",\"d\":\"{document}\"}}");

    public override byte[] Create(string document, long seq, string data)
        => Encoding.UTF8.GetBytes($"{{\"a\":\"op\",\"c\":\"bench\",\"d\":\"{document}\",\"v\":0,\"seq\":{seq},\"x\":{{}},\"create\":{{\"type\":\"json0\",\"data\":{data}}}}}");

    public override byte[] Op(string document, long version, long seq, string op)
        => Encoding.UTF8.GetBytes($"{{\"a\":\"op\",\"c\":\"bench\",\"d\":\"{document}\",\"v\":{version},\"seq\":{seq},\"x\":{{}},\"op\":{op}}}");

    public override byte[]? HeartbeatReply(ReadOnlySpan<byte> message) => null; // ShareDB sends no heartbeat

    public override DocumentMessage? Parse(ReadOnlySpan<byte> message)
    {
        var reader = new Utf8JsonReader(message);
        return reader.Read() && reader.TokenType == JsonTokenType.StartObject ? DocumentMessage.Read(ref reader) : null;
    }
}
