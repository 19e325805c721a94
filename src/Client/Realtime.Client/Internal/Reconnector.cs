using Microsoft.Extensions.Logging;

namespace Realtime.Client.Internal;

/// <summary>The connection a <see cref="Reconnector"/> drives: its state, which changes only atomically (by compare-and-set, or to Closed from any state).</summary>
internal interface IReconnectorOwner
{
    /// <summary>The state now.</summary>
    ConnectionState State { get; }

    /// <summary>Changes the state to <paramref name="next"/> if it is <paramref name="expected"/>.</summary>
    /// <returns>Whether it changed.</returns>
    bool TryChangeState(ConnectionState expected, ConnectionState next);

    /// <summary>Closed for good, from any state: messages are no longer accepted for sending.</summary>
    void SetClosed();
}

/// <summary>
/// A connection's one driver: attempts (each made by the <see cref="Dialer"/>), the connected phase of each transport, and
/// reconnection with backoff, raising the connection's lifecycle events. It owns the transport while connected and the token
/// that stops a wait or an attempt; the connection's state it changes through <see cref="IReconnectorOwner"/>.
/// </summary>
/// <remarks>
/// Recovery: each attempt after a drop offers what the last connection left (<see cref="ResumeOffer.After"/>), and
/// <see cref="Recovered"/> says how the server answered. The offer is touched by the run loop only; the last position in it was
/// written by the ended transport's receive loop, read once that transport's run has completed.
/// </remarks>
internal sealed class Reconnector : IDisposable
{
    private readonly IReconnectorOwner _owner;
    private readonly Dialer _dialer;
    private readonly ClientOptions _options;
    private readonly EventDispatcher _events;
    private readonly ILogger _logger;
    private readonly string _roomId;
    private readonly CancellationTokenSource _closing = new();
    private Transport? _transport;
    private ResumeOffer? _offer;    // what the next attempt offers: the run loop's alone
    private volatile bool _recovered;

    public Reconnector(IReconnectorOwner owner, Dialer dialer, ClientOptions options, EventDispatcher events, ILogger logger, string roomId)
    {
        _owner = owner;
        _dialer = dialer;
        _options = options;
        _events = events;
        _logger = logger;
        _roomId = roomId;
    }

    /// <summary>The connection id while connected; <see langword="null"/> otherwise.</summary>
    public string? Id => Volatile.Read(ref _transport)?.Id;

    /// <summary>Whether the last (re)connection replayed everything missed; set with <see cref="Id"/>, before its events are raised.</summary>
    public bool Recovered => _recovered;

    /// <summary>The run loop: it completes when the connection has closed for good.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>Starts the run loop; called once, by the connection's first state change.</summary>
    /// <param name="firstAttempt">ConnectAsync's completion: a failed first attempt then ends the connection and is reported to it.</param>
    /// <param name="firstAttemptToken">ConnectAsync's token.</param>
    public void Start(TaskCompletionSource? firstAttempt, CancellationToken firstAttemptToken)
        => Completion = Task.Run(() => RunAsync(firstAttempt, firstAttemptToken), CancellationToken.None);

    /// <summary>The connection is closing: a wait between attempts or an attempt in progress stops; a connected transport closes politely instead.</summary>
    /// <returns>A task that completes when the wait or attempt has been told to stop (not when it has stopped: see <see cref="Completion"/>).</returns>
    public async Task StopAsync()
    {
        await _closing.CancelAsync().ConfigureAwait(false);
        Volatile.Read(ref _transport)?.RequestClose();
    }

    public void Dispose() => _closing.Dispose();

    /// <summary>
    /// With <paramref name="firstAttempt"/> (ConnectAsync) a failed first attempt ends the connection and is reported to the caller;
    /// later drops reconnect as usual.
    /// </summary>
    private async Task RunAsync(TaskCompletionSource? firstAttempt, CancellationToken firstAttemptToken)
    {
        int attempt = 0;        // reconnection attempts made in the current sequence
        bool retrying = false;  // whether the next attempt is a reconnection attempt
        try
        {
            while (_owner.State != ConnectionState.Closed)
            {
                if (retrying)
                {
                    if (attempt >= _options.ReconnectionAttempts)
                    {
                        _owner.SetClosed();
                        _events.Raise(ConnectionEvents.ReconnectFailed);
                        return;
                    }

                    TimeSpan delay = Backoff.GetDelay(attempt, _options.ReconnectionDelay, _options.ReconnectionDelayMax,
                                                      _options.RandomizationFactor, Random.Shared.NextDouble());
                    ClientLog.ReconnectScheduled(_logger, attempt + 1, _roomId, delay);
                    await Task.Delay(delay, _options.TimeProvider, _closing.Token).ConfigureAwait(false);
                    attempt++;
                    _events.Raise(ConnectionEvents.ReconnectAttempt, attempt);
                }

                ResumeOffer? offer = _offer;
                Transport? transport = await TryOpenAsync(offer, firstAttempt, firstAttemptToken).ConfigureAwait(false);
                if (transport is null)
                {
                    if (firstAttempt is not null || _owner.State == ConnectionState.Closed || !_options.Reconnection)
                    {
                        _owner.SetClosed();
                        return;
                    }

                    _owner.TryChangeState(ConnectionState.Connecting, ConnectionState.Reconnecting);
                    retrying = true;
                    continue;
                }

                if (!_owner.TryChangeState(ConnectionState.Connecting, ConnectionState.Connected) &&
                    !_owner.TryChangeState(ConnectionState.Reconnecting, ConnectionState.Connected))
                {
                    // Closed while the attempt completed: close this transport too.
                    transport.RequestClose();
                    await transport.RunAsync().ConfigureAwait(false);
                    return;
                }

                // A token is good for one reconnection: from now on, the offer is what this connection leaves when it ends.
                _offer = null;
                _recovered = offer is not null && transport.Recovered;
                Volatile.Write(ref _transport, transport);
                ClientLog.Connected(_logger, _roomId, transport.Id);
                if (offer is not null)
                {
                    ClientLog.ResumeAnswered(_logger, _roomId, _recovered);
                }

                if (retrying)
                {
                    _events.Raise(ConnectionEvents.Reconnect, attempt);
                }

                _events.Raise(ConnectionEvents.Connect);
                _events.Raise(ConnectionEvents.ConnectedAs, transport.Id);
                if (firstAttempt is not null)
                {
                    // ConnectAsync completes after the first Connect event has been dispatched.
                    TaskCompletionSource done = firstAttempt;
                    _events.Post(() => done.TrySetResult());
                    firstAttempt = null;
                    firstAttemptToken = CancellationToken.None; // ConnectAsync's token bounds its own attempt, not the reconnections after it
                }

                attempt = 0;
                retrying = false;

                TransportEnd end = await transport.RunAsync().ConfigureAwait(false);
                Volatile.Write(ref _transport, null);
                _offer = ResumeOffer.After(transport);
                bool closedByUs = !_owner.TryChangeState(ConnectionState.Connected, ConnectionState.Reconnecting);
                DisconnectReason reason = closedByUs ? DisconnectReason.ClientDisconnect : end.Reason;
                ClientLog.Disconnected(_logger, _roomId, reason);
                _events.Raise(ConnectionEvents.Disconnect, reason);
                if (closedByUs || !end.AllowReconnect || !_options.Reconnection)
                {
                    _owner.SetClosed();
                    return;
                }

                retrying = true;
            }
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
            // Close() during a wait or an attempt: nothing more to do.
        }
        finally
        {
            _owner.SetClosed();
            firstAttempt?.TrySetException(new RealtimeConnectException("The connection was closed before it connected."));
        }
    }

    /// <summary>One attempt; raises exactly one <c>Error</c> when it fails.</summary>
    /// <param name="offer">What the attempt offers to recover the missed broadcasts, or <see langword="null"/>.</param>
    /// <param name="firstAttempt">ConnectAsync's completion, for the first attempt.</param>
    /// <param name="firstAttemptToken">ConnectAsync's token, for the first attempt.</param>
    /// <returns>The connected transport, or <see langword="null"/> when the attempt failed.</returns>
    private async Task<Transport?> TryOpenAsync(ResumeOffer? offer, TaskCompletionSource? firstAttempt, CancellationToken firstAttemptToken)
    {
        RealtimeConnectException failure;
        try
        {
            return await _dialer.OpenAsync(offer, _closing.Token, firstAttemptToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException ex) when (firstAttemptToken.IsCancellationRequested)
        {
            firstAttempt?.TrySetCanceled(firstAttemptToken);
            ClientLog.AttemptFailed(_logger, _roomId, ex);
            return null;
        }
        catch (RealtimeConnectException ex)
        {
            failure = ex;
        }

        ClientLog.AttemptFailed(_logger, _roomId, failure);
        _events.Raise(ConnectionEvents.Error, (Exception)failure);
        firstAttempt?.TrySetException(failure);
        if (failure.IsRejection)
        {
            // A rejection is final: no reconnection, and no Disconnect (the connection never connected).
            _owner.SetClosed();
        }

        return null;
    }
}
