namespace Realtime.Protocol;

/// <summary>
/// The WebSocket close codes of protocol v1 and the one table that maps them to a
/// <see cref="DisconnectReason"/> and to the reconnect decision. Both the server and the
/// clients use this table.
/// </summary>
public static class CloseCodes
{
    /// <summary>1000: normal closure (client-initiated; the server answers a client's 1000 with 1000).</summary>
    public const int NormalClosure = 1000;

    /// <summary>1001: going away. From the server: it is shutting down, clients reconnect. From a browser: the page went away.</summary>
    public const int GoingAway = 1001;

    /// <summary>1002: protocol error: a frame that decodes but is not allowed here.</summary>
    public const int ProtocolError = 1002;

    /// <summary>1005: no status code was present in the close frame (never sent; reported by the WebSocket stack).</summary>
    public const int NoStatus = 1005;

    /// <summary>1007: invalid payload: a frame that cannot be decoded.</summary>
    public const int InvalidPayload = 1007;

    /// <summary>1008: policy violation: the connection sent frames faster than the server's rate limit allows.</summary>
    public const int PolicyViolation = 1008;

    /// <summary>1009: a message larger than <c>maxMessageSize</c>.</summary>
    public const int MessageTooBig = 1009;

    /// <summary>1011: unexpected server error (a bug).</summary>
    public const int InternalError = 1011;

    /// <summary>4000: closed by the server application (<see cref="DisconnectReason.ServerDisconnect"/>); the client does not reconnect.</summary>
    public const int ServerDisconnect = 4000;

    /// <summary>4001: ping timeout: the server saw no <c>pong</c> in time.</summary>
    public const int PingTimeout = 4001;

    /// <summary>4002: handshake rejected (after a <c>reject</c> frame); the client does not reconnect.</summary>
    public const int HandshakeRejected = 4002;

    /// <summary>4003: slow consumer: the connection's outbound queue overflowed.</summary>
    public const int SlowConsumer = 4003;

    /// <summary>4008: handshake timeout: no <c>hello</c>, or connect middleware unfinished, within the handshake timeout.</summary>
    public const int HandshakeTimeout = 4008;

    /// <summary>The reason a client reports when the server closed the connection with <paramref name="closeCode"/>.</summary>
    /// <param name="closeCode">The code of the server's close frame.</param>
    /// <returns>
    /// 4000: <see cref="DisconnectReason.ServerDisconnect"/>; 4001: <see cref="DisconnectReason.PingTimeout"/>;
    /// 1000, 1001: <see cref="DisconnectReason.TransportClose"/>; 4002: <see cref="DisconnectReason.ServerDisconnect"/>
    /// (a rejection; clients report it as an error, not a disconnect); anything else: <see cref="DisconnectReason.TransportError"/>.
    /// </returns>
    public static DisconnectReason ReasonForServerClose(int closeCode) => closeCode switch
    {
        ServerDisconnect or HandshakeRejected => DisconnectReason.ServerDisconnect,
        PingTimeout => DisconnectReason.PingTimeout,
        NormalClosure or GoingAway => DisconnectReason.TransportClose,
        _ => DisconnectReason.TransportError,
    };

    /// <summary>The reason a server reports when the client closed the connection with <paramref name="closeCode"/>.</summary>
    /// <param name="closeCode">The code of the client's close frame; <see langword="null"/> or 1005 when it carried none.</param>
    /// <returns>1000, 1001 or no code: <see cref="DisconnectReason.ClientDisconnect"/>; anything else: <see cref="DisconnectReason.TransportError"/>.</returns>
    public static DisconnectReason ReasonForClientClose(int? closeCode) => closeCode switch
    {
        null or NormalClosure or GoingAway or NoStatus => DisconnectReason.ClientDisconnect,
        _ => DisconnectReason.TransportError,
    };

    /// <summary>Whether a client reconnects automatically after the server closed with <paramref name="closeCode"/>.</summary>
    /// <param name="closeCode">The code of the server's close frame.</param>
    /// <returns><see langword="false"/> for 4000 and 4002; <see langword="true"/> for everything else.</returns>
    public static bool AllowsReconnect(int closeCode) => closeCode is not (ServerDisconnect or HandshakeRejected);
}
