namespace Realtime;

/// <summary>An operation or a snapshot that an <see cref="IOtType"/> cannot use: badly formed, or not fitting the document.</summary>
public sealed class OtException : Exception
{
    /// <summary>Creates the exception.</summary>
    public OtException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was wrong (sent to the client in the protocol's error reply).</param>
    public OtException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was wrong.</param>
    /// <param name="innerException">The cause.</param>
    public OtException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
