namespace Realtime.Server;

/// <summary>A document request the server refused: what a client gets as <c>error: {code, message}</c>, thrown by <see cref="DocumentService"/>.</summary>
public sealed class DocumentException : Exception
{
    /// <summary>Creates the exception with code 1000.</summary>
    public DocumentException()
        : this(DocumentErrorCodes.Unknown, "Document request refused")
    {
    }

    /// <summary>Creates the exception with code 1000.</summary>
    /// <param name="message">Why.</param>
    public DocumentException(string message)
        : this(DocumentErrorCodes.Unknown, message)
    {
    }

    /// <summary>Creates the exception with code 1000.</summary>
    /// <param name="message">Why.</param>
    /// <param name="innerException">The cause.</param>
    public DocumentException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = DocumentErrorCodes.Unknown;
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="code">The protocol's error code (<see cref="DocumentErrorCodes"/>).</param>
    /// <param name="message">Why.</param>
    public DocumentException(int code, string message)
        : base(message)
    {
        Code = code;
    }

    /// <summary>The protocol's error code (<see cref="DocumentErrorCodes"/>).</summary>
    public int Code { get; }
}
