using System.Net.WebSockets;
using Realtime.Protocol;
using Realtime.Server.Diagnostics;

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

    /// <summary>
    /// A failure that is not the network's (a bug here or in a layer below, such as two concurrent receives): logged as an error, and
    /// the connection is closed with 1011. The close timer aborts it if the close cannot complete.
    /// </summary>
    public static void OnUnexpectedFailure(ServerConnection connection, Exception ex)
    {
        RealtimeLog.UnexpectedError(connection.Server.Logger, connection.Id, ex);
        connection.NoteRefusal(MetricTags.Error);
        connection.RequestClose(DisconnectReason.TransportError, CloseCodes.InternalError, "Internal server error", drain: false);
    }

    /// <summary>The network failed under a connection: logged, and closed with the reason <see cref="Classify"/> gives.</summary>
    public static void OnTransportFailure(ServerConnection connection, Exception ex)
    {
        RealtimeLog.TransportFailed(connection.Server.Logger, connection.Id, ex);
        (DisconnectReason reason, int closeCode) = Classify(ex);
        connection.RequestClose(reason, closeCode, string.Empty, drain: false);

        // A WebSocket that failed has aborted itself, after sending any close frame of its own (1007 for invalid UTF-8). Aborting it
        // again through ASP.NET Core's wrapper would also abort the HTTP connection, and that reset can overtake the close frame.
        // The connection ends when the request completes.
        if (connection.Socket.State != WebSocketState.Aborted)
        {
            Abort(connection.Socket);
        }
    }
}
