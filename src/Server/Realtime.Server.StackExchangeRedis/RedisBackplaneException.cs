namespace Realtime.Server.StackExchangeRedis;

/// <summary>The Redis backplane could not do what was asked in time (Redis unreachable, slow, or refusing).</summary>
public sealed class RedisBackplaneException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RedisBackplaneException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What failed.</param>
    public RedisBackplaneException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public RedisBackplaneException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
