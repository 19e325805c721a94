namespace Realtime.Client;

/// <summary>A connection attempt failed: rejected by the server (then <see cref="Exception.Message"/> is exactly the server's text), unreachable, or timed out.</summary>
public sealed class RealtimeConnectException : RealtimeException
{
    /// <summary>Creates the exception.</summary>
    public RealtimeConnectException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The text.</param>
    public RealtimeConnectException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The text.</param>
    /// <param name="innerException">The cause.</param>
    public RealtimeConnectException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Whether the server rejected the handshake (close 4002): the connection does not reconnect.</summary>
    public bool IsRejection { get; internal init; }
}
