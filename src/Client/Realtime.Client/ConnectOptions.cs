namespace Realtime.Client;

/// <summary>Settings of one connection.</summary>
public sealed class ConnectOptions
{
    /// <summary>The auth payload of <c>hello</c>, serialized with <see cref="ClientOptions.JsonSerializerOptions"/>; <see langword="null"/> sends none. Sent again on every reconnection.</summary>
    public object? Auth { get; set; }

    /// <summary>Extra query parameters of the URL (the server exposes them as <c>ServerConnection.Query</c>); <c>roomId</c> is added by the client.</summary>
    public IDictionary<string, string>? Query { get; set; }
}
