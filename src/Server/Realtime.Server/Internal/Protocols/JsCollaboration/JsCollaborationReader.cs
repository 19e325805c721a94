using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using Realtime.Internal;
using Realtime.Protocol;

namespace Realtime.Server.Internal.Protocols.JsCollaboration;

/// <summary>
/// One connection's reader of the original framework's wire. Every text message is one Engine.IO packet; a Socket.IO binary event is
/// its text packet followed by its attachments as binary messages. CONNECT to <c>/</c> is the opening request (first and once, by
/// the rule of <see cref="ProtocolReader"/>); events before it break the protocol, a pong before it is ignored.
/// </summary>
internal sealed class JsCollaborationReader(int maxDataBytes)
    : ProtocolReader(secondOpening: "A second CONNECT to namespace /.", beforeOpening: "An event before CONNECT.")
{
    private int _attachmentsLeft;
    private bool _binaryMessage; // the pending binary event is an m event whose whole data is its one attachment
    private string? _binaryType;
    private byte[]? _attachment;

    public override InboundEvent Read(WebSocketMessageType type, ReadOnlySpan<byte> message)
    {
        if (type == WebSocketMessageType.Binary)
        {
            return ReadAttachment(message);
        }

        if (_attachmentsLeft != 0)
        {
            return InboundEvent.Violation(CloseCodes.ProtocolError, "A text packet where a binary event's attachment was expected.");
        }

        if (message.IsEmpty)
        {
            return InboundEvent.Violation(CloseCodes.ProtocolError, "An empty Engine.IO packet.");
        }

        switch ((EnginePacketType)message[0])
        {
            case EnginePacketType.Message:
                return ReadSocketIo(message[1..]);
            case EnginePacketType.Pong:
                return Opened ? InboundEvent.Pong : InboundEvent.None;
            case EnginePacketType.Ping:
                return InboundEvent.Answer(message[1..].SequenceEqual("probe"u8) ? JsCollaborationProtocol.ProbeAnswerFrame : JsCollaborationProtocol.PongFrame);
            case EnginePacketType.Close:
                return InboundEvent.Goodbye;
            case EnginePacketType.Noop:
                return InboundEvent.None;
            default:
                return InboundEvent.Violation(CloseCodes.ProtocolError, "An Engine.IO packet of a type clients do not send.");
        }
    }

    private InboundEvent ReadSocketIo(ReadOnlySpan<byte> text)
    {
        if (!SocketIoPacket.TryParse(text, out SocketIoPacket packet, out string? problem))
        {
            return InboundEvent.Violation(CloseCodes.ProtocolError, problem!);
        }

        if (!packet.Namespace.SequenceEqual("/"u8))
        {
            // Socket.IO answers a CONNECT to a namespace it does not serve, and ignores anything else sent to one.
            return packet.Type == SocketIoPacketType.Connect ? InboundEvent.Answer(InvalidNamespaceReply(packet.Namespace)) : InboundEvent.None;
        }

        switch (packet.Type)
        {
            case SocketIoPacketType.Connect:
                return Open() ?? ReadConnect(packet.Payload);
            case SocketIoPacketType.Disconnect:
                return InboundEvent.Goodbye;
            case SocketIoPacketType.Event:
                return RequireOpen() ?? ReadEvent(packet.Payload);
            case SocketIoPacketType.BinaryEvent:
                return RequireOpen() ?? BeginBinaryEvent(packet.Attachments, packet.Payload);
            case SocketIoPacketType.BinaryAck:
                return RequireOpen() ?? SkipAttachments(packet.Attachments); // the server asks for no acknowledgements: read past it
            case SocketIoPacketType.Ack:
                return RequireOpen() ?? InboundEvent.None;
            default:
                return InboundEvent.Violation(CloseCodes.ProtocolError, "A CONNECT_ERROR packet, which servers send only.");
        }
    }

    private InboundEvent SkipAttachments(int attachments)
    {
        _attachmentsLeft = -attachments;
        return InboundEvent.None;
    }

    /// <summary>The CONNECT payload: auth, or nothing. The reader is open already; a payload that is not a JSON object breaks the protocol.</summary>
    private static InboundEvent ReadConnect(ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty)
        {
            return InboundEvent.Hello(default);
        }

        JsonElement auth;
        try
        {
            using var document = JsonDocument.Parse(payload.ToArray(), new JsonDocumentOptions { MaxDepth = 64 });
            auth = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return InboundEvent.Violation(CloseCodes.ProtocolError, "CONNECT's auth payload is not valid JSON.");
        }

        if (auth.ValueKind != JsonValueKind.Object)
        {
            return InboundEvent.Violation(CloseCodes.ProtocolError, "CONNECT's auth payload must be a JSON object.");
        }

        return InboundEvent.Hello(auth);
    }

    private InboundEvent ReadEvent(ReadOnlySpan<byte> payload)
    {
        if (!CollaborationEvents.TryRead(payload, maxDataBytes, out CollaborationEventKind kind, out string? type, out ReadOnlyMemory<byte> data, out string? problem))
        {
            return Undecodable(problem!);
        }

        if (kind == CollaborationEventKind.Other)
        {
            return InboundEvent.None; // the client's other events (its licence status, for example) mean nothing here
        }

        // The type as the original relays it: of any length (the message size limit bounds the whole packet), "" kept as "".
        return InboundEvent.ForMessage(new Message(type, new LazyJson(data)));
    }

    private InboundEvent BeginBinaryEvent(int attachments, ReadOnlySpan<byte> payload)
    {
        if (attachments == 0)
        {
            return ReadEvent(payload);
        }

        _attachmentsLeft = attachments;
        _attachment = null;
        _binaryType = null;
        _binaryMessage = false;
        if (CollaborationEvents.TryRead(payload, maxDataBytes, out CollaborationEventKind kind, out string? type, out ReadOnlyMemory<byte> data, out _)
            && kind == CollaborationEventKind.Message && attachments == 1 && IsFirstPlaceholder(data.Span))
        {
            _binaryMessage = true;
            _binaryType = type;
        }
        else if (kind == CollaborationEventKind.Other)
        {
            _attachmentsLeft = -attachments; // another event: its attachments are read past, and nothing is answered
        }

        return InboundEvent.None;
    }

    private InboundEvent ReadAttachment(ReadOnlySpan<byte> bytes)
    {
        if (_attachmentsLeft == 0)
        {
            return InboundEvent.Violation(CloseCodes.ProtocolError, "A binary message that no binary event announced.");
        }

        bool ignored = _attachmentsLeft < 0;
        _attachmentsLeft += ignored ? 1 : -1;
        if (_binaryMessage && _attachment is null)
        {
            _attachment = bytes.ToArray();
        }

        if (_attachmentsLeft != 0 || ignored)
        {
            return InboundEvent.None;
        }

        if (!_binaryMessage)
        {
            return Undecodable("Binary data is accepted only as a message's whole data ([type, <binary>, false]).");
        }

        var message = new Message(_binaryType, (ReadOnlyMemory<byte>)_attachment!);
        _attachment = null;
        _binaryType = null;
        _binaryMessage = false;
        return InboundEvent.ForMessage(message);
    }

    private static bool IsFirstPlaceholder(ReadOnlySpan<byte> data)
    {
        try
        {
            using var document = JsonDocument.Parse(data.ToArray());
            JsonElement root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("_placeholder"u8, out JsonElement placeholder) && placeholder.ValueKind == JsonValueKind.True
                && root.TryGetProperty("num"u8, out JsonElement num) && num.ValueKind == JsonValueKind.Number && num.TryGetInt32(out int n) && n == 0;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static InboundEvent Undecodable(string problem)
        => InboundEvent.Answer(new OutboundFrame(CollaborationEvents.EncodeMessageError("Invalid message: " + problem), IsBinary: false), problem);

    private static OutboundFrame InvalidNamespaceReply(ReadOnlySpan<byte> nameSpace)
    {
        var output = new ArrayBufferWriter<byte>(nameSpace.Length + 40);
        output.Write("44"u8);
        output.Write(nameSpace);
        output.Write(",{\"message\":\"Invalid namespace\"}"u8);
        return new OutboundFrame(output.WrittenSpan.ToArray(), IsBinary: false);
    }
}
