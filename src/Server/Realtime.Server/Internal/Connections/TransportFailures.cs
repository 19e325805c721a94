using System.Net.WebSockets;
using Realtime.Protocol;

namespace Realtime.Server.Internal.Connections;

/// <summary>How a connection tells the network's failures from its own, and how it lets go of a socket.</summary>
internal static class TransportFailures
{
    /// <summary>
    /// Whether an exception from the socket is the network's doing. An <see cref="InvalidOperationException"/> is, only once the
    /// connection is closing (a read or write racing the teardown); before that it is a programming error.
    /// </summary>
    public static bool IsTransportFailure(Exception ex, bool closing)
        => ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException
           || (ex is InvalidOperationException && closing);

    /// <summary>The reason and close code for a transport failure: the peer vanished (1001), or the transport broke (1011).</summary>
    public static (DisconnectReason Reason, int CloseCode) Classify(Exception ex)
        => ex is WebSocketException { WebSocketErrorCode: WebSocketError.ConnectionClosedPrematurely }
            ? (DisconnectReason.TransportClose, CloseCodes.GoingAway)
            : (DisconnectReason.TransportError, CloseCodes.InternalError);

    /// <summary>Aborts the WebSocket: pending sends and receives end at once. (The socket ASP.NET Core hands out also aborts its HTTP connection.)</summary>
    public static void Abort(WebSocket socket)
    {
        try
        {
            socket.Abort();
        }
        catch (ObjectDisposedException)
        {
            // Already gone.
        }
    }
}
