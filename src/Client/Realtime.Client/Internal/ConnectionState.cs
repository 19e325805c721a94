namespace Realtime.Client.Internal;

/// <summary>The states of a <see cref="Connection"/>; they change only through <c>TryChangeState</c>.</summary>
internal enum ConnectionState
{
    /// <summary>Created, not started.</summary>
    Disconnected,

    /// <summary>The first attempt is in progress.</summary>
    Connecting,

    /// <summary><c>welcome</c> received; messages flow.</summary>
    Connected,

    /// <summary>Dropped or failed; waiting for or making a reconnection attempt.</summary>
    Reconnecting,

    /// <summary>Closed for good: by <c>Close</c>, a server close, a rejection or exhausted attempts.</summary>
    Closed,
}
