using System.Net.WebSockets;
using Realtime.Protocol;

namespace Realtime.Server.Internal.Protocols;

/// <summary>
/// Reads one connection's WebSocket messages, in order, into <see cref="InboundEvent"/>s. Stateful (a protocol may spread one
/// event over several messages, and checks the handshake order), so there is one per connection; only the receive loop calls it.
/// </summary>
/// <remarks>
/// The rule every protocol shares lives here: the client's opening request (v1 <c>hello</c>, Socket.IO CONNECT) comes first and
/// once. A reader calls <see cref="Open"/> when it reads one, and <see cref="RequireOpen"/> before what may only follow it; what a
/// protocol tolerates before it (a Socket.IO pong, a client's ping) stays the reader's own choice.
/// </remarks>
/// <param name="secondOpening">Why a second opening request breaks the protocol, for the log.</param>
/// <param name="beforeOpening">Why something before the opening request breaks the protocol, for the log.</param>
internal abstract class ProtocolReader(string secondOpening, string beforeOpening)
{
    /// <summary>Whether the client's opening request has been read.</summary>
    protected bool Opened { get; private set; }

    /// <summary>Interprets one whole WebSocket message (text or binary; never a close).</summary>
    /// <param name="type">The message type.</param>
    /// <param name="message">The message's bytes, valid only during the call: anything kept is copied.</param>
    public abstract InboundEvent Read(WebSocketMessageType type, ReadOnlySpan<byte> message);

    /// <summary>
    /// On an opening request: <see langword="null"/> the first time (the reader is open from then on, and reads the request), a
    /// violation on a second one.
    /// </summary>
    protected InboundEvent? Open()
    {
        if (Opened)
        {
            return InboundEvent.Violation(CloseCodes.ProtocolError, secondOpening);
        }

        Opened = true;
        return null;
    }

    /// <summary>On what may only follow the opening request: <see langword="null"/> once it has been read, a violation before.</summary>
    protected InboundEvent? RequireOpen() => Opened ? null : InboundEvent.Violation(CloseCodes.ProtocolError, beforeOpening);
}
