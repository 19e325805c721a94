namespace Realtime.Protocol;

/// <summary>
/// A frame that violates the protocol. It carries the close code the receiver closes with
/// (1002 protocol error, 1007 invalid payload, 1009 too large).
/// </summary>
public sealed class ProtocolException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="closeCode">The close code to close the connection with.</param>
    /// <param name="message">What was wrong (never the payload itself).</param>
    public ProtocolException(int closeCode, string message)
        : base(message)
    {
        CloseCode = closeCode;
    }

    /// <summary>Creates the exception with close code 1002.</summary>
    public ProtocolException()
        : this(CloseCodes.ProtocolError, "Protocol error.")
    {
    }

    /// <summary>Creates the exception with close code 1002.</summary>
    /// <param name="message">What was wrong.</param>
    public ProtocolException(string message)
        : this(CloseCodes.ProtocolError, message)
    {
    }

    /// <summary>Creates the exception with close code 1002 and an inner exception (name another code with the three-argument constructor).</summary>
    /// <param name="message">What was wrong.</param>
    /// <param name="innerException">The cause.</param>
    public ProtocolException(string message, Exception innerException)
        : this(CloseCodes.ProtocolError, message, innerException)
    {
    }

    /// <summary>Creates the exception with a close code and an inner exception.</summary>
    /// <param name="closeCode">The close code to close the connection with.</param>
    /// <param name="message">What was wrong (never the payload itself).</param>
    /// <param name="innerException">The cause, if any.</param>
    public ProtocolException(int closeCode, string message, Exception? innerException)
        : base(message, innerException)
    {
        CloseCode = closeCode;
    }

    /// <summary>The close code to close the connection with.</summary>
    public int CloseCode { get; }
}
