using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Nito.AsyncEx;
using Realtime.Client.Internal;
using Realtime.Internal;

namespace Realtime.Client;

/// <summary>
/// A connection to one room (the JavaScript client's <c>Connection</c>): send messages, listen for events,
/// close. It reconnects by itself after drops (see <see cref="ClientOptions"/>); each reconnection gets a new <see cref="Id"/>.
/// </summary>
/// <remarks>
/// All members are thread-safe. Event handlers run one at a time, in event order, off the socket's receive
/// loop. Dispose it (or <see cref="CloseAsync"/>) when done.
/// </remarks>
public sealed partial class Connection : IAsyncDisposable, IReconnectorOwner
{
    private readonly ClientOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<OutboundFrame> _outbound; // the send buffer: filled here, drained by the transport of the moment
    private readonly AsyncAutoResetEvent _signal = new();
    private readonly EventRegistry _registry = new();
    private readonly EventDispatcher _events;
    private readonly Reconnector _reconnector;
    private int _state = (int)ConnectionState.Disconnected;
    private long _documentSeq;

    internal Connection(Client client, string roomId, ConnectOptions? options)
    {
        ArgumentNullException.ThrowIfNull(roomId);
        if (!Realtime.RoomId.IsValid(roomId))
        {
            throw new ArgumentException("A room id is 1 to 128 characters with no control characters.", nameof(roomId));
        }

        _options = client.Options;
        RoomId = roomId;
        ILogger logger = _logger = _options.LoggerFactory?.CreateLogger("Realtime.Client") ?? NullLogger.Instance;
        _events = new EventDispatcher(_registry, logger);
        _outbound = Channel.CreateBounded<OutboundFrame>(new BoundedChannelOptions(Math.Max(1, _options.MaxBufferedMessages))
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        var dialer = new Dialer(client.Url, roomId, options ?? new ConnectOptions(), _options, _outbound.Reader, _signal, _events, logger,
                                ClientActivities.Current()); // the trace context of the caller that opens the connection
        _reconnector = new Reconnector(this, dialer, _options, _events, logger, roomId);
    }

    /// <summary>The connection id while connected (20 characters, the same value the server sees); <see langword="null"/> when not connected. A new value after each reconnection.</summary>
    public string? Id => _reconnector.Id;

    /// <summary>The room of this connection.</summary>
    public string RoomId { get; }

    /// <summary>Whether the connection is connected now.</summary>
    public bool Connected => State == ConnectionState.Connected;

    /// <summary>
    /// Whether the last (re)connection recovered everything the room broadcast while the connection was away: <see langword="true"/>
    /// when the server replays every missed broadcast (they arrive through <see cref="ConnectionEvents.Message"/>, in order, before
    /// any newer message); <see langword="false"/> on the first connection, when the server could not recover (a room without
    /// history, a drop longer than the server's window, more missed than its history holds, a token refused), and from a server
    /// without recovery. Set when the <c>welcome</c> arrives, with <see cref="Id"/>, before <see cref="ConnectionEvents.Reconnect"/>
    /// and <see cref="ConnectionEvents.Connect"/> are raised; it keeps its value until the next (re)connection.
    /// </summary>
    /// <example><code>connection.On(ConnectionEvents.Reconnect, _ => { if (!connection.Recovered) ReloadDocument(); });</code></example>
    public bool Recovered => _reconnector.Recovered;

    internal ConnectionState State => (ConnectionState)Volatile.Read(ref _state);

    /// <summary>The client's options (features on this connection serialize with its <see cref="ClientOptions.JsonSerializerOptions"/>).</summary>
    internal ClientOptions Options => _options;

    /// <summary>The connection's logger, shared by the features built on it.</summary>
    internal ILogger Logger => _logger;

    /// <summary>Runs <paramref name="action"/> on the connection's dispatcher, after every event queued so far (features raise their events this way).</summary>
    internal void Post(Action action) => _events.Post(action);

    /// <summary>The next <c>seq</c> of a shared document op on this connection: from 1, unique across its documents and its reconnections.</summary>
    internal long NextDocumentSeq() => Interlocked.Increment(ref _documentSeq);

    /// <summary>The run loop: it completes when the connection has closed for good, by itself or by <see cref="CloseAsync"/>.</summary>
    internal Task RunCompletion => _reconnector.Completion;

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
        using Activity? span = ClientActivities.StartSend(this, type);
        if (!_outbound.Writer.TryWrite(ClientActivities.EncodeMessage(data, type, _options.JsonSerializerOptions, span)))
        {
            var full = new RealtimeException($"The send buffer is full ({_options.MaxBufferedMessages} messages, ClientOptions.MaxBufferedMessages); the message was not sent. Use SendAsync to wait for room.");
            ClientActivities.Failed(span, full);
            throw full;
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
        using Activity? span = ClientActivities.StartSend(this, type);
        OutboundFrame frame = ClientActivities.EncodeMessage(data, type, _options.JsonSerializerOptions, span);
        try
        {
            await _outbound.Writer.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException ex)
        {
            ClientActivities.Failed(span, ex);
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
            await _reconnector.StopAsync().ConfigureAwait(false);
            _outbound.Writer.TryComplete();
        }

        await _reconnector.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
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

        _reconnector.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"Connection {Id ?? "(not connected)"} (room {RoomId}, {State})";

    ConnectionState IReconnectorOwner.State => State;

    bool IReconnectorOwner.TryChangeState(ConnectionState expected, ConnectionState next) => TryChangeState(expected, next);

    void IReconnectorOwner.SetClosed()
    {
        Interlocked.Exchange(ref _state, (int)ConnectionState.Closed);
        _outbound.Writer.TryComplete();
    }

    internal void Start(TaskCompletionSource? firstAttempt, CancellationToken cancellationToken)
    {
        if (!TryChangeState(ConnectionState.Disconnected, ConnectionState.Connecting))
        {
            throw new InvalidOperationException("The connection was already started.");
        }

        _reconnector.Start(firstAttempt, cancellationToken);
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
}
