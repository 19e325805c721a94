namespace Realtime.Client;

/// <summary>
/// The events of a <see cref="Connection"/>. Handlers run one at a time per connection, in event order,
/// never on the socket's receive loop; events are never replayed to late handlers.
/// </summary>
public static class ConnectionEvents
{
    /// <summary><c>"connect"</c>: every successful (re)connection, after <see cref="Connection.Id"/> and <see cref="Connection.Connected"/> are set.</summary>
    /// <example><code>connection.On(ConnectionEvents.Connect, () => Console.WriteLine(connection.Id));</code></example>
    public static readonly ConnectionEvent Connect = new("connect");

    /// <summary><c>"message"</c>: a message from the server.</summary>
    /// <example><code>connection.On(ConnectionEvents.Message, m => Console.WriteLine($"{m.Type}: {m.Data}"));</code></example>
    public static readonly ConnectionEvent<Message> Message = new("message");

    /// <summary><c>"disconnect"</c>: the connection dropped or was closed, with the reason; raised after <see cref="Connection.Id"/> is <see langword="null"/>.</summary>
    /// <example><code>connection.On(ConnectionEvents.Disconnect, reason => Console.WriteLine(reason));</code></example>
    public static readonly ConnectionEvent<DisconnectReason> Disconnect = new("disconnect");

    /// <summary><c>"error"</c>: a failed connection attempt (one per attempt), a rejection (<see cref="RealtimeConnectException"/>), or a message refused by the server (<see cref="RealtimeException"/>).</summary>
    public static readonly ConnectionEvent<Exception> Error = new("error");

    /// <summary><c>"reconnectAttempts"</c>: before each reconnection attempt, with its number (from 1).</summary>
    public static readonly ConnectionEvent<int> ReconnectAttempt = new("reconnectAttempts");

    /// <summary>
    /// <c>"reconnect"</c>: a reconnection succeeded, with the number of attempts it took; <see cref="Connect"/> follows.
    /// <see cref="Connection.Recovered"/> already says whether the messages missed meanwhile follow.
    /// </summary>
    public static readonly ConnectionEvent<int> Reconnect = new("reconnect");

    /// <summary><c>"reconnectFailed"</c>: <see cref="ClientOptions.ReconnectionAttempts"/> attempts failed; the connection stays disconnected.</summary>
    public static readonly ConnectionEvent ReconnectFailed = new("reconnectFailed");

    /// <summary>
    /// Internal: raised right after each <see cref="Connect"/> with the id of the transport that connected, so that a feature
    /// knows which connection the messages after it came through (reading <see cref="Connection.Id"/> in a handler may already
    /// see a later connection, or none).
    /// </summary>
    internal static readonly ConnectionEvent<string> ConnectedAs = new("realtime.connectedAs");
}
