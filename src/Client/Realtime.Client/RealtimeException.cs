namespace Realtime.Client;

/// <summary>An error reported by the server or the client: for example a message refused by server middleware (its <see cref="Exception.Message"/> is the server's text).</summary>
public class RealtimeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RealtimeException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The text (for server errors, exactly the server's text).</param>
    public RealtimeException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The text.</param>
    /// <param name="innerException">The cause.</param>
    public RealtimeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
