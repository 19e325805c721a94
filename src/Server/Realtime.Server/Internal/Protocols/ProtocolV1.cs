using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Realtime.Internal;
using Realtime.Protocol;
using Realtime.Server.Diagnostics;

namespace Realtime.Server.Internal.Protocols;

/// <summary>
/// Realtime protocol v1 (docs/protocol.md): subprotocol <c>realtime.v1</c>, the client speaks first (<c>hello</c>), JSON text
/// frames and binary application frames, and the close code alone says why a connection ended. A thin layer over the
/// <see cref="FrameReader"/> and <see cref="FrameWriter"/> codec of <c>Realtime.Shared</c>.
/// </summary>
internal sealed class ProtocolV1 : RealtimeProtocol
{
    private static readonly OutboundFrame PingFrame = new(FrameWriter.PingFrame, IsBinary: false);

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_positioned;

    private readonly JsonSerializerOptions _json;

    public ProtocolV1(JsonSerializerOptions json)
        : base(slot: 0)
    {
        _json = json;
    }

    public override OutboundFrame Ping => PingFrame;

    public override bool TryReadUpgrade(in UpgradeRequestHead request, out UpgradeRequest upgrade, out HttpRefusal refusal)
    {
        upgrade = default;
        if (!request.IsWebSocketRequest)
        {
            refusal = HttpRefusal.Text(StatusCodes.Status400BadRequest, "This endpoint accepts WebSocket connections only (subprotocol realtime.v1).");
            return false;
        }

        IReadOnlyList<string> offered = request.SubProtocols;
        bool offersV1 = offered.Contains(ProtocolLimits.SubProtocol, StringComparer.Ordinal);
        if (offered.Count > 0 && !offersV1)
        {
            refusal = HttpRefusal.Text(StatusCodes.Status400BadRequest, "Unsupported WebSocket subprotocol: offer realtime.v1.");
            return false;
        }

        // roomId must appear once; other keys expose their first value.
        IReadOnlyDictionary<string, string> values = UpgradeQuery.FirstValues(request.Query);
        bool roomValid = UpgradeQuery.TryGetSingle(request.Query, "roomId", out string roomId) && RoomId.IsValid(roomId);
        upgrade = new UpgradeRequest(offersV1 ? ProtocolLimits.SubProtocol : null, roomId, ConnectionId: null, values, roomValid ? null : "Invalid roomId");
        refusal = default;
        return true;
    }

    public override ProtocolReader CreateReader() => new Reader();

    public override OutboundFrame EncodeAccept(string connectionId, string roomId, RealtimeOptions options)
        => FrameEncoder.Encode((connectionId, roomId, options), static (output, s) => FrameWriter.WriteWelcome(output, s.connectionId, s.roomId,
            (int)s.options.PingInterval.TotalMilliseconds, (int)s.options.PingTimeout.TotalMilliseconds, s.options.MaxMessageSize));

    public override OutboundFrame EncodeAccept(string connectionId, string roomId, RealtimeOptions options, string? resumeToken, string? position, bool? recovered)
        => FrameEncoder.Encode((connectionId, roomId, options, resumeToken, position, recovered), static (output, s) => FrameWriter.WriteWelcome(output, s.connectionId,
            s.roomId, (int)s.options.PingInterval.TotalMilliseconds, (int)s.options.PingTimeout.TotalMilliseconds, s.options.MaxMessageSize, s.resumeToken, s.position,
            s.recovered));

    /// <summary>A room broadcast with <c>pos</c> (docs/protocol.md §3.1): once per broadcast in a room that keeps a history.</summary>
    public override OutboundFrame? EncodePositioned(in Message message, string position)
    {
        ArrayBufferWriter<byte> buffer = t_positioned ??= new ArrayBufferWriter<byte>(4096);
        if (buffer.Capacity > 256 * 1024)
        {
            t_positioned = buffer = new ArrayBufferWriter<byte>(4096); // one huge frame does not pin a huge buffer to this thread
        }

        buffer.ResetWrittenCount();
        bool binary = FrameWriter.WritePositionedMessage(buffer, message, position);
        return new OutboundFrame(buffer.WrittenSpan.ToArray(), binary);
    }

    public override OutboundFrame EncodeReject(string message) => FrameEncoder.Encode(message, static (output, m) => FrameWriter.WriteReject(output, m));

    public override OutboundFrame EncodeError(string message) => FrameEncoder.Encode(message, static (output, m) => FrameWriter.WriteError(output, m));

    public override OutboundFrame EncodeMessage(in Message message) => FrameEncoder.EncodeMessage(message, type: null, _json);

    public override string? CannotCarry(in Message message) => ProtocolLimits.TypeProblem(message.Type, message.IsBinary);

    /// <summary>
    /// A text frame is <c>{"t":"msg","type":…,"data":…}</c> with the data's exact text, a binary one two bytes, the type and the
    /// payload; JSON escaping writes a UTF-16 unit of the type in at most six bytes (<c>\uXXXX</c>).
    /// </summary>
    public override long MaxEncodedLength(in Message message)
        => (message.IsBinary ? message.Bytes.Length : Math.Max(message.DataUtf8.Length, 4)) + (6L * (message.Type?.Length ?? 0)) + 64;

    public override OutboundFrame? ClosePacket(DisconnectReason reason, int closeCode) => null;

    /// <summary>One connection's reader: every WebSocket message is one frame, and <c>hello</c> comes first and once.</summary>
    private sealed class Reader() : ProtocolReader(secondOpening: "A second hello frame.", beforeOpening: "A frame before hello.")
    {
        public override InboundEvent Read(WebSocketMessageType type, ReadOnlySpan<byte> message)
        {
            Frame frame;
            try
            {
                // The trace context fields are read only while something listens to the server's spans: otherwise they cost nothing.
                frame = type == WebSocketMessageType.Text ? FrameReader.ReadClientText(message, RealtimeActivities.Enabled) : FrameReader.ReadClientBinary(message);
            }
            catch (ProtocolException ex)
            {
                return InboundEvent.Violation(ex.CloseCode, ex.Message);
            }

            return frame.Kind switch
            {
                FrameKind.Hello => Open() ?? InboundEvent.Hello(frame.Auth, frame.Trace,
                    frame.Recover ? new Recovery.RecoveryState(frame.ResumeToken, frame.Position) : null), // nothing more for a client that does not ask
                FrameKind.Pong => RequireOpen() ?? InboundEvent.Pong,
                FrameKind.Message => RequireOpen() ?? InboundEvent.ForMessage(frame.Message, frame.Trace),
                FrameKind.Unknown => InboundEvent.Violation(CloseCodes.ProtocolError, "A text frame of an unknown kind."),
                _ => InboundEvent.Violation(CloseCodes.ProtocolError, $"A {frame.Kind} frame is sent by servers only."),
            };
        }
    }
}
