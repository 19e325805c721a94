namespace Realtime.Client;

/// <summary>
/// The entry point of the C# client (the JavaScript <c>Client</c>): one server URL and its options,
/// from which connections to rooms are opened.
/// </summary>
/// <example>
/// <code>
/// var client = new Client("ws://localhost:5000/realtime");
/// var connection = client.Connect("room1", new ConnectOptions { Auth = new { token = "valid-token" } });
/// connection.On(ConnectionEvents.Message, m => Console.WriteLine($"{m.Type}: {m.Data}"));
/// connection.Send(new { userId = "user1", active = true }, "my-presence");
/// </code>
/// </example>
public sealed class Client
{
    /// <summary>
    /// The name of the client's <see cref="System.Diagnostics.ActivitySource"/>, <c>Realtime.Client</c>: subscribe to it for a
    /// <c>realtime.send</c> span around each send. Whether or not anything listens, a message sent while an activity is current
    /// carries its W3C trace context to the server, and so does the <c>hello</c> of a connection opened while one is (docs/client.md).
    /// </summary>
    public const string ActivitySourceName = "Realtime.Client";

    /// <summary>Creates a client for a server endpoint.</summary>
    /// <param name="url">The endpoint: <c>ws://</c>, <c>wss://</c>, <c>http://</c> or <c>https://</c> (the last two are read as <c>ws</c> and <c>wss</c>).</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentException">The URL is not absolute or has another scheme.</exception>
    public Client(string url, ClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri))
        {
            throw new ArgumentException($"'{url}' is not an absolute URL.", nameof(url));
        }

        string scheme = uri.Scheme switch
        {
            "ws" or "http" => "ws",
            "wss" or "https" => "wss",
            _ => throw new ArgumentException($"The URL scheme must be ws, wss, http or https, not '{uri.Scheme}'.", nameof(url)),
        };
        Url = new UriBuilder(uri) { Scheme = scheme, Port = uri.IsDefaultPort ? -1 : uri.Port }.Uri;
        Options = options ?? new ClientOptions();
    }

    /// <summary>The endpoint URL, with <c>http</c> normalized to <c>ws</c> and <c>https</c> to <c>wss</c>.</summary>
    public Uri Url { get; }

    internal ClientOptions Options { get; }

    /// <summary>
    /// Opens a connection to a room and returns at once; it connects in the background. A failed first attempt
    /// raises <c>Error</c> and is retried with backoff, like a reconnection. The first event is raised no earlier
    /// than the WebSocket upgrade completes, so handlers added right after this call miss nothing.
    /// </summary>
    /// <param name="roomId">The room (1–128 characters, no control characters).</param>
    /// <param name="options">Auth payload and extra query parameters.</param>
    /// <returns>The connection.</returns>
    public Connection Connect(string roomId, ConnectOptions? options = null)
    {
        var connection = new Connection(this, roomId, options);
        connection.Start(firstAttempt: null, CancellationToken.None);
        return connection;
    }

    /// <summary>
    /// Opens a connection to a room with one attempt, and completes when it is connected (after the first
    /// <c>Connect</c> event has been dispatched). Later drops reconnect as usual.
    /// </summary>
    /// <param name="roomId">The room (1–128 characters, no control characters).</param>
    /// <param name="options">Auth payload and extra query parameters.</param>
    /// <param name="cancellationToken">Cancels the first attempt (until <c>ConnectAsync</c> completes); cancelled later, it no longer affects the connection or its reconnections.</param>
    /// <returns>The connected connection.</returns>
    /// <exception cref="RealtimeConnectException">The attempt failed: rejected (its message is exactly the server's text), unreachable, or <see cref="ClientOptions.Timeout"/> elapsed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<Connection> ConnectAsync(string roomId, ConnectOptions? options = null, CancellationToken cancellationToken = default)
    {
        var connection = new Connection(this, roomId, options);
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Start(connected, cancellationToken);
        try
        {
            await connected.Task.ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
