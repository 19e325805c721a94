using System.Net.WebSockets;

namespace Realtime.Server.Internal.Protocols;

/// <summary>
/// Reads one connection's WebSocket messages, in order, into <see cref="InboundEvent"/>s. Stateful (a protocol may spread one
/// event over several messages, and checks the handshake order), so there is one per connection; only the receive loop calls it.
/// </summary>
internal abstract class ProtocolReader
{
    /// <summary>Interprets one whole WebSocket message (text or binary; never a close).</summary>
    /// <param name="type">The message type.</param>
    /// <param name="message">The message's bytes, valid only during the call: anything kept is copied.</param>
    public abstract InboundEvent Read(WebSocketMessageType type, ReadOnlySpan<byte> message);
}
