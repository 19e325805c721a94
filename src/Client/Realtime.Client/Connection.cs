using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Nito.AsyncEx;
using Realtime.Client.Internal;
using Realtime.Internal;
using Realtime.Protocol;

namespace Realtime.Client;

/// <summary>
/// A connection to one room (the JavaScript client's <c>Connection</c>): send messages, listen for events,
/// close. It reconnects by itself after drops (see <see cref="ClientOptions"/>); each reconnection gets a new <see cref="Id"/>.
/// </summary>
/// <remarks>
/// All members are thread-safe. Event handlers run one at a time, in event order, off the socket's receive
/// loop. Dispose it (or <see cref="CloseAsync"/>) when done.
/// </remarks>
public sealed partial class Connection : IAsyncDisposable
{
    private readonly Client _client;
    private readonly ClientOptions _options;
    private readonly ConnectOptions _connectOptions;
    private readonly Channel<OutboundFrame> _outbound;
    private readonly AsyncAutoResetEvent _signal = new();
    private readonly EventRegistry _registry = new();
    private readonly EventDispatcher _events;
    private readonly CancellationTokenSource _closing = new();
    private readonly ILogger _logger;
    private int _state = (int)ConnectionState.Disconnected;
    private string? _id;
    private Transport? _transport;
    private Task _run = Task.CompletedTask;

    internal Connection(Client client, string roomId, ConnectOptions? options)
    {
        ArgumentNullException.ThrowIfNull(roomId);
        if (!Realtime.RoomId.IsValid(roomId))
        {
            throw new ArgumentException("A room id is 1 to 128 characters with no control characters.", nameof(roomId));
        }

        _client = client;
        _options = client.Options;
        _connectOptions = options ?? new ConnectOptions();
        RoomId = roomId;
        _logger = _options.LoggerFactory?.CreateLogger("Realtime.Client") ?? NullLogger.Instance;
        _events = new EventDispatcher(_registry, _logger);
        _outbound = Channel.CreateBounded<OutboundFrame>(new BoundedChannelOptions(Math.Max(1, _options.MaxBufferedMessages))
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>The connection id while connected (20 characters, the same value the server sees); <see langword="null"/> when not connected. A new value after each reconnection.</summary>
    public string? Id => Volatile.Read(ref _id);

    /// <summary>The room of this connection.</summary>
    public string RoomId { get; }

    /// <summary>Whether the connection is connected now.</summary>
    public bool Connected => State == ConnectionState.Connected;

    internal ConnectionState State => (ConnectionState)Volatile.Read(ref _state);

    /// <summary>The run loop: it completes when the connection has closed for good, by itself or by <see cref="CloseAsync"/>.</summary>
    internal Task RunCompletion => _run;

    /// <summary>
    /// Sends a message. While (re)connecting it is buffered and sent after the next connection, up to
    /// <see cref="ClientOptions.MaxBufferedMessages"/> waiting messages. Never blocks.
    /// </summary>
    /// <typeparam name="T">The payload's type. A <see cref="Message"/>, <see cref="JsonElement"/>, <see cref="byte"/> array or
    /// <see cref="ReadOnlyMemory{T}"/> of bytes is sent as it is (the byte forms as binary messages); anything else is serialized
    /// with <see cref="ClientOptions.JsonSerializerOptions"/>.</typeparam>
    /// <param name="data">The payload.</param>
    /// <param name="type">The message type, or <see langword="null"/> for none (<c>""</c> is a type of its own). For a <see cref="Message"/>,
    /// <see langword="null"/> keeps its own type.</param>
    /// <exception cref="RealtimeException">The buffer is full; use <see cref="SendAsync{T}(T, string?, CancellationToken)"/> to wait for room.</exception>
    /// <exception cref="InvalidOperationException">The connection is closed.</exception>
    /// <exception cref="ArgumentException">The type is longer than 255 bytes of UTF-8, or is <c>""</c> on binary data: protocol v1 carries neither.</exception>
    /// <example><code>connection.Send(new { userId = "user1", active = true }, "my-presence");</code></example>
    public void Send<T>(T data, string? type = null)
    {
        ThrowIfClosed();
        if (!_outbound.Writer.TryWrite(FrameEncoder.EncodeMessage(data, type, _options.JsonSerializerOptions)))
        {
            throw new RealtimeException($"The send buffer is full ({_options.MaxBufferedMessages} messages, ClientOptions.MaxBufferedMessages); the message was not sent. Use SendAsync to wait for room.");
        }

        _signal.Set();
    }

    /// <summary>Sends a message, waiting while the send buffer is full. Completes when the message is queued (buffered while offline).</summary>
    /// <typeparam name="T">The payload's type; see <see cref="Send{T}(T, string?)"/>.</typeparam>
    /// <param name="data">The payload.</param>
    /// <param name="type">The message type, or <see langword="null"/> for none (<c>""</c> is a type of its own). For a <see cref="Message"/>,
    /// <see langword="null"/> keeps its own type.</param>
    /// <param name="cancellationToken">Stops waiting for room.</param>
    /// <returns>A task that completes when the message is queued.</returns>
    /// <exception cref="InvalidOperationException">The connection is closed.</exception>
    /// <exception cref="ArgumentException">The type is longer than 255 bytes of UTF-8, or is <c>""</c> on binary data: protocol v1 carries neither.</exception>
    public async Task SendAsync<T>(T data, string? type = null, CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        OutboundFrame frame = FrameEncoder.EncodeMessage(data, type, _options.JsonSerializerOptions);
        try
        {
            await _outbound.Writer.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException ex)
        {
            throw new InvalidOperationException("The connection is closed.", ex);
        }

        _signal.Set();
    }

    /// <summary>Closes the connection (<see cref="DisconnectReason.ClientDisconnect"/>): messages already queued are sent first; no reconnection follows.</summary>
    public void Close() => _ = CloseAsync();

    /// <summary>Closes the connection like <see cref="Close"/> and completes when it is closed.</summary>
    /// <param name="cancellationToken">Stops waiting for the close to complete; the close itself goes on (it is bounded by a 5 s deadline).</param>
    /// <returns>A task that completes when the socket is closed and the run loop has ended.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the close completed.</exception>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        ConnectionState previous = (ConnectionState)Interlocked.Exchange(ref _state, (int)ConnectionState.Closed);
        if (previous != ConnectionState.Closed)
        {
            // Stops a wait between attempts or an attempt in progress; a connected transport closes politely instead.
            await _closing.CancelAsync().ConfigureAwait(false);
            Volatile.Read(ref _transport)?.RequestClose();
            _outbound.Writer.TryComplete();
        }

        await _run.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes the connection and waits until its last event handler has run (unless called from a handler).</summary>
    /// <returns>A task that completes when the connection is disposed.</returns>
    public async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);
        _events.Complete();
        if (!_events.IsCurrent)
        {
            await _events.Completion.ConfigureAwait(false);
        }

        _closing.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"Connection {Id ?? "(not connected)"} (room {RoomId}, {State})";

    internal void Start(TaskCompletionSource<Connection>? firstAttempt, CancellationToken cancellationToken)
    {
        if (!TryChangeState(ConnectionState.Disconnected, ConnectionState.Connecting))
        {
            throw new InvalidOperationException("The connection was already started.");
        }

        _run = Task.Run(() => RunAsync(firstAttempt, cancellationToken), CancellationToken.None);
    }

    private bool TryChangeState(ConnectionState expected, ConnectionState next)
        => Interlocked.CompareExchange(ref _state, (int)next, (int)expected) == (int)expected;

    private void ThrowIfClosed()
    {
        if (State == ConnectionState.Closed)
        {
            throw new InvalidOperationException("The connection is closed.");
        }
    }

    private Uri BuildUri()
    {
        var query = new StringBuilder("roomId=").Append(Uri.EscapeDataString(RoomId));
        if (_connectOptions.Query is { } extra)
        {
            foreach (KeyValuePair<string, string> pair in extra)
            {
                if (!string.Equals(pair.Key, "roomId", StringComparison.Ordinal))
                {
                    query.Append('&').Append(Uri.EscapeDataString(pair.Key)).Append('=').Append(Uri.EscapeDataString(pair.Value ?? string.Empty));
                }
            }
        }

        var builder = new UriBuilder(_client.Url);
        builder.Query = string.IsNullOrEmpty(builder.Query) ? query.ToString() : builder.Query.TrimStart('?') + "&" + query;
        return builder.Uri;
    }

    /// <summary>Encodes this attempt's <c>hello</c>: the auth payload is read (or asked of the provider) anew each time.</summary>
    private async ValueTask<ReadOnlyMemory<byte>> EncodeHelloAsync(CancellationToken cancellationToken)
    {
        object? payload = _connectOptions.Auth;
        if (_connectOptions.AuthProvider is { } provider)
        {
            try
            {
                payload = await provider(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                throw new RealtimeConnectException($"ConnectOptions.AuthProvider failed: {ex.Message}", ex);
            }
        }

        JsonElement auth = payload is null
            ? default
            : JsonSerializer.SerializeToElement(payload, payload.GetType(), _options.JsonSerializerOptions);
        var buffer = new ArrayBufferWriter<byte>();
        FrameWriter.WriteHello(buffer, auth);
        return buffer.WrittenMemory;
    }
}
