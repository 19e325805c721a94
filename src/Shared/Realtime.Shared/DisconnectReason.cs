namespace Realtime;

/// <summary>
/// Why a connection ended. Both the server and the clients report one of these five values; the
/// numbers match the original JavaScript framework so they mean the same thing everywhere.
/// </summary>
/// <remarks>The close code carries the detail (see <see cref="Protocol.CloseCodes"/>); this enum carries the class.</remarks>
public enum DisconnectReason
{
    /// <summary>The client closed deliberately (close code 1000, or 1001 when a browser page goes away). No reconnection.</summary>
    ClientDisconnect = 0,

    /// <summary>The server closed deliberately: the application called <c>Close</c> (close code 4000). No reconnection.</summary>
    ServerDisconnect = 1,

    /// <summary>The heartbeat was lost, detected by either side (close code 4001 when the server detects it). Clients reconnect.</summary>
    PingTimeout = 2,

    /// <summary>The connection ended without a protocol problem: the peer vanished, TCP closed, or the server is shutting down (1001). Clients reconnect.</summary>
    TransportClose = 3,

    /// <summary>Anything else: protocol violations (1002, 1007, 1009), slow consumer (4003), server errors (1011), I/O errors. Clients reconnect.</summary>
    TransportError = 4,
}
