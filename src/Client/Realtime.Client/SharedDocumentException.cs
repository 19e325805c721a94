namespace Realtime.Client;

/// <summary>
/// A shared document's request refused by the server (the original's <c>err.code</c> and <c>err.message</c>), or a local failure of the
/// document's algorithm (an op that does not transform or apply).
/// </summary>
public sealed class SharedDocumentException : RealtimeException
{
    /// <summary>Creates the exception with code 1000 (unknown error).</summary>
    public SharedDocumentException()
        : this(1000, "Unknown error")
    {
    }

    /// <summary>Creates the exception with code 1000 (unknown error).</summary>
    /// <param name="message">The text.</param>
    public SharedDocumentException(string message)
        : this(1000, message)
    {
    }

    /// <summary>Creates the exception with code 1000 (unknown error).</summary>
    /// <param name="message">The text.</param>
    /// <param name="innerException">The cause.</param>
    public SharedDocumentException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = 1000;
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="code">The protocol's error code (js-collaboration-features.md §3.8; e.g. 1000 for a middleware refusal, 17 for a version newer than the server's).</param>
    /// <param name="message">The text; for a server error exactly the server's.</param>
    public SharedDocumentException(int code, string message)
        : base(message)
    {
        Code = code;
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="code">The protocol's error code.</param>
    /// <param name="message">The text.</param>
    /// <param name="innerException">The cause.</param>
    public SharedDocumentException(int code, string message, Exception innerException)
        : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>The protocol's error code (the original's <c>ERROR_CODES</c>): 0 already created, 1 does not exist, 3 deleted, 9 apply failed,
    /// 10 transform failed, 17 version newer than the server's, 19 submit rejected (never thrown: the op is rolled back silently),
    /// 29/30 bad restore target, 32 restored concurrently, 1000 anything else (a middleware refusal).</summary>
    public int Code { get; }
}
