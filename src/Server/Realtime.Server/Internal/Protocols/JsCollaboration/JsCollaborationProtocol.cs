using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Realtime.Internal;
using Realtime.Protocol;

namespace Realtime.Server.Internal.Protocols.JsCollaboration;

/// <summary>
/// The original JavaScript collaboration framework's wire format (docs/js-collaboration.md): Engine.IO v4 over WebSocket only, with
/// Socket.IO v5 packets inside, namespace <c>/</c>, and the framework's <c>m</c> and <c>message_error</c> events. The server speaks
/// first (the Engine.IO open packet), the client's CONNECT is its opening request, and the client reads why a connection ended from
/// packets, not close codes: a server DISCONNECT (<c>41</c>) for <see cref="ServerConnection.Close"/>, nothing (the transport
/// closes, and the client reconnects) for everything else.
/// </summary>
internal sealed class JsCollaborationProtocol : RealtimeProtocol
{
    private static readonly OutboundFrame PingFrame = Text("2"u8);
    internal static readonly OutboundFrame PongFrame = Text("3"u8);
    internal static readonly OutboundFrame ProbeAnswerFrame = Text("3probe"u8);
    private static readonly OutboundFrame DisconnectFrame = Text("41"u8);

    /// <summary>The header of a binary <c>m</c> event whose data is its one attachment; the type goes between the two parts.</summary>
    private static readonly byte[] BinaryHeadStart = "451-[\"m\",["u8.ToArray();

    private static readonly byte[] BinaryHeadEnd = ",{\"_placeholder\":true,\"num\":0},false]]"u8.ToArray();

    private readonly RealtimeOptions _options;

    public JsCollaborationProtocol(RealtimeOptions options)
        : base(slot: 1)
    {
        _options = options;
    }

    public override OutboundFrame Ping => PingFrame;

    public override bool TryReadUpgrade(in UpgradeRequestHead request, out UpgradeRequest upgrade, out HttpRefusal refusal)
    {
        upgrade = default;
        IQueryCollection query = request.Query;

        // Engine.IO's own error responses, in the order its server checks them: transport, session, protocol version, upgrade.
        if (!UpgradeQuery.TryGetSingle(query, "transport", out string transport) || transport != "websocket")
        {
            refusal = EngineError(0, "Transport unknown");
            return false;
        }

        if (query.ContainsKey("sid"))
        {
            refusal = EngineError(1, "Session ID unknown"); // this server opens no polling sessions a WebSocket could upgrade
            return false;
        }

        if (!UpgradeQuery.TryGetSingle(query, "EIO", out string version) || version != "4")
        {
            refusal = EngineError(5, "Unsupported protocol version");
            return false;
        }

        if (!request.IsWebSocketRequest)
        {
            refusal = EngineError(3, "Bad request");
            return false;
        }

        // The original server refuses a handshake without id or roomId in its connect middleware: the client reads that as a
        // CONNECT_ERROR it does not retry. The same happens here, after the open packet.
        string? handshakeRefusal = null;
        bool hasId = UpgradeQuery.TryGetSingle(query, "id", out string id);
        bool hasRoom = UpgradeQuery.TryGetSingle(query, "roomId", out string roomId);
        if (!hasId)
        {
            handshakeRefusal = "Invalid connect: missing id in query parameters.";
        }
        else if (!IsClientId(id))
        {
            handshakeRefusal = "Invalid connect: id must be 20 characters of 0-9, A-Z and a-z.";
        }
        else if (!hasRoom)
        {
            handshakeRefusal = "Invalid connect: missing roomId in query parameters.";
        }
        else if (!RoomId.IsValid(roomId))
        {
            handshakeRefusal = "Invalid connect: invalid roomId in query parameters.";
        }

        upgrade = new UpgradeRequest(SubProtocol: null, roomId, handshakeRefusal is null ? id : null, UpgradeQuery.FirstValues(query), handshakeRefusal);
        refusal = default;
        return true;
    }

    /// <summary>Whether <paramref name="id"/> is an id the original client generates: 20 characters of <c>[0-9A-Za-z]</c>.</summary>
    public static bool IsClientId(string id)
    {
        if (id.Length != ConnectionId.Length)
        {
            return false;
        }

        foreach (char c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    public override OutboundFrame? EncodeGreeting(string connectionId, RealtimeOptions options)
        => Encode((connectionId, options), static (writer, s) =>
        {
            writer.WriteStartObject();
            writer.WriteString("sid"u8, s.connectionId);
            writer.WriteStartArray("upgrades"u8);
            writer.WriteEndArray();
            writer.WriteNumber("pingInterval"u8, (long)s.options.PingInterval.TotalMilliseconds);
            writer.WriteNumber("pingTimeout"u8, (long)s.options.PingTimeout.TotalMilliseconds);
            writer.WriteNumber("maxPayload"u8, s.options.MaxMessageSize);
            writer.WriteEndObject();
        }, "0"u8);

    public override ProtocolReader CreateReader() => new JsCollaborationReader(_options.MaxMessageSize);

    public override OutboundFrame EncodeAccept(string connectionId, string roomId, RealtimeOptions options)
        => Encode(connectionId, static (writer, id) =>
        {
            writer.WriteStartObject();
            writer.WriteString("sid"u8, id);
            writer.WriteEndObject();
        }, "40"u8);

    public override OutboundFrame EncodeReject(string message)
        => Encode(message, static (writer, m) =>
        {
            writer.WriteStartObject();
            writer.WriteString("message"u8, m);
            writer.WriteEndObject();
        }, "44"u8);

    public override OutboundFrame EncodeError(string message) => new(CollaborationEvents.EncodeMessageError(message), IsBinary: false);

    /// <summary>
    /// A third more than protocol v1's: the original sends the base64 of gzipped data whenever the gzip has fewer bytes than the JSON,
    /// and that text can be up to a third longer than the JSON it stands for. Its clients read whatever the original server sends.
    /// </summary>
    public override long FrameLimit(long maxFrameBytes) => maxFrameBytes + (maxFrameBytes / 3) + ProtocolLimits.EnvelopeAllowance;

    public override OutboundFrame EncodeMessage(in Message message)
    {
        if (!message.IsBinary)
        {
            ReadOnlySpan<byte> data = message.DataUtf8;
            return new OutboundFrame(CollaborationEvents.EncodeMessage(message.Type, data.IsEmpty ? "null"u8 : data), IsBinary: false);
        }

        // A binary event with one attachment: the header as a text message, then the bytes as a binary one.
        byte[] type = message.Type is null ? "null"u8.ToArray() : JsonSerializer.SerializeToUtf8Bytes(message.Type);
        ReadOnlySpan<byte> bytes = message.Bytes.Span;
        int headLength = BinaryHeadStart.Length + type.Length + BinaryHeadEnd.Length;
        byte[] frame = new byte[headLength + bytes.Length];
        BinaryHeadStart.CopyTo(frame, 0);
        type.CopyTo(frame, BinaryHeadStart.Length);
        BinaryHeadEnd.CopyTo(frame, BinaryHeadStart.Length + type.Length);
        bytes.CopyTo(frame.AsSpan(headLength));
        return new OutboundFrame(frame, IsBinary: true, TextLength: headLength);
    }

    /// <summary>Only the server's deliberate close is a DISCONNECT: the client then does not reconnect. A shutdown, a timeout or a slow
    /// consumer just close the transport, and the client reconnects, as it does when the original server goes away.</summary>
    public override OutboundFrame? ClosePacket(DisconnectReason reason, int closeCode)
        => closeCode == CloseCodes.ServerDisconnect ? DisconnectFrame : null;

    private static OutboundFrame Text(ReadOnlySpan<byte> packet) => new(packet.ToArray(), IsBinary: false);

    /// <summary>An Engine.IO error response: 400 with <c>{"code":…,"message":…}</c>.</summary>
    private static HttpRefusal EngineError(int code, string message)
    {
        OutboundFrame body = Encode((code, message), static (writer, s) =>
        {
            writer.WriteStartObject();
            writer.WriteNumber("code"u8, s.code);
            writer.WriteString("message"u8, s.message);
            writer.WriteEndObject();
        }, default);
        return new HttpRefusal(StatusCodes.Status400BadRequest, "application/json", Encoding.UTF8.GetString(body.Bytes.Span));
    }

    private static OutboundFrame Encode<TState>(TState state, Action<Utf8JsonWriter, TState> write, ReadOnlySpan<byte> prefix)
    {
        var output = new ArrayBufferWriter<byte>(64);
        output.Write(prefix);
        using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            write(writer, state);
        }

        return new OutboundFrame(output.WrittenSpan.ToArray(), IsBinary: false);
    }
}
