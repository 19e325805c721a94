namespace Realtime.Client;

/// <summary>Settings of one connection.</summary>
public sealed class ConnectOptions
{
    /// <summary>
    /// The auth payload of <c>hello</c>, serialized with <see cref="ClientOptions.JsonSerializerOptions"/>; <see langword="null"/> sends none.
    /// Read again before every attempt, so a value set later is sent on the next reconnection.
    /// </summary>
    public object? Auth { get; set; }

    /// <summary>
    /// Supplies the auth payload before every connection attempt (the first and each reconnection), for a token that expires:
    /// return a fresh one. When set, it replaces <see cref="Auth"/>; <see langword="null"/> from it sends no auth. Its
    /// cancellation token ends with the attempt (<see cref="ClientOptions.Timeout"/>, or a close). If it throws, the attempt
    /// fails with a <see cref="RealtimeConnectException"/> (an <c>Error</c> event) and is retried like any other.
    /// </summary>
    /// <example><code>new ConnectOptions { AuthProvider = async ct => new { token = await tokens.GetAsync(ct) } }</code></example>
    public Func<CancellationToken, ValueTask<object?>>? AuthProvider { get; set; }

    /// <summary>Extra query parameters of the URL (the server exposes them as <c>ServerConnection.Query</c>); <c>roomId</c> is added by the client.</summary>
    public IDictionary<string, string>? Query { get; set; }
}
