using System.Net.WebSockets;
using Realtime.Client.Internal;

namespace Realtime.Client;

public sealed partial class Connection
{
    /// <summary>
    /// The connection's one driver: attempts, the connected phase, and reconnection with backoff.
    /// With <paramref name="firstAttempt"/> (ConnectAsync) a failed first attempt ends the connection and is
    /// reported to the caller; later drops reconnect as usual.
    /// </summary>
    private async Task RunAsync(TaskCompletionSource<Connection>? firstAttempt, CancellationToken firstAttemptToken)
    {
        int attempt = 0;        // reconnection attempts made in the current sequence
        bool retrying = false;  // whether the next attempt is a reconnection attempt
        try
        {
            while (State != ConnectionState.Closed)
            {
                if (retrying)
                {
                    if (attempt >= _options.ReconnectionAttempts)
                    {
                        SetClosed();
                        _events.Raise(ConnectionEvents.ReconnectFailed);
                        return;
                    }

                    TimeSpan delay = Backoff.GetDelay(attempt, _options.ReconnectionDelay, _options.ReconnectionDelayMax,
                                                      _options.RandomizationFactor, Random.Shared.NextDouble());
                    ClientLog.ReconnectScheduled(_logger, attempt + 1, RoomId, delay);
                    await Task.Delay(delay, _options.TimeProvider, _closing.Token).ConfigureAwait(false);
                    attempt++;
                    _events.Raise(ConnectionEvents.ReconnectAttempt, attempt);
                }

                Transport? transport = await TryOpenAsync(firstAttempt, firstAttemptToken).ConfigureAwait(false);
                if (transport is null)
                {
                    if (firstAttempt is not null || State == ConnectionState.Closed || !_options.Reconnection)
                    {
                        SetClosed();
                        return;
                    }

                    TryChangeState(ConnectionState.Connecting, ConnectionState.Reconnecting);
                    retrying = true;
                    continue;
                }

                if (!TryChangeState(ConnectionState.Connecting, ConnectionState.Connected) &&
                    !TryChangeState(ConnectionState.Reconnecting, ConnectionState.Connected))
                {
                    // Closed while the attempt completed: close this transport too.
                    transport.RequestClose();
                    await transport.RunAsync().ConfigureAwait(false);
                    return;
                }

                Volatile.Write(ref _id, transport.Id);
                Volatile.Write(ref _transport, transport);
                ClientLog.Connected(_logger, RoomId, transport.Id);
                if (retrying)
                {
                    _events.Raise(ConnectionEvents.Reconnect, attempt);
                }

                _events.Raise(ConnectionEvents.Connect);
                if (firstAttempt is not null)
                {
                    // ConnectAsync completes after the first Connect event has been dispatched.
                    TaskCompletionSource<Connection> done = firstAttempt;
                    _events.Post(() => done.TrySetResult(this));
                    firstAttempt = null;
                }

                attempt = 0;
                retrying = false;

                TransportEnd end = await transport.RunAsync().ConfigureAwait(false);
                Volatile.Write(ref _transport, null);
                Volatile.Write(ref _id, null);
                bool closedByUs = !TryChangeState(ConnectionState.Connected, ConnectionState.Reconnecting);
                DisconnectReason reason = closedByUs ? DisconnectReason.ClientDisconnect : end.Reason;
                ClientLog.Disconnected(_logger, RoomId, reason);
                _events.Raise(ConnectionEvents.Disconnect, reason);
                if (closedByUs || !end.AllowReconnect || !_options.Reconnection)
                {
                    SetClosed();
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
            SetClosed();
            firstAttempt?.TrySetException(new RealtimeConnectException("The connection was closed before it connected."));
        }
    }

    /// <summary>One attempt within <see cref="ClientOptions.Timeout"/>; raises exactly one <c>Error</c> when it fails.</summary>
    /// <returns>The connected transport, or <see langword="null"/> when the attempt failed.</returns>
    private async Task<Transport?> TryOpenAsync(TaskCompletionSource<Connection>? firstAttempt, CancellationToken firstAttemptToken)
    {
        using var timeout = new CancellationTokenSource(_options.Timeout, _options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _closing.Token, firstAttemptToken);
        RealtimeConnectException failure;
        try
        {
            Task<ReadOnlyMemory<byte>> hello = EncodeHelloAsync(linked.Token).AsTask();
            try
            {
                return await Transport.OpenAsync(BuildUri(), _options, hello, _outbound.Reader, _signal, _events, _logger, linked.Token).ConfigureAwait(false);
            }
            catch when (!hello.IsCompleted)
            {
                // The upgrade failed first: the provider's answer is no longer wanted.
                await linked.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException ex) when (firstAttemptToken.IsCancellationRequested)
        {
            firstAttempt?.TrySetCanceled(firstAttemptToken);
            ClientLog.AttemptFailed(_logger, RoomId, ex);
            return null;
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested)
        {
            failure = new RealtimeConnectException($"The connection attempt timed out after {_options.Timeout} (ClientOptions.Timeout).", ex);
        }
        catch (RealtimeConnectException ex)
        {
            failure = ex;
        }
        catch (Exception ex) when (ex is WebSocketException or HttpRequestException or IOException or InvalidOperationException or
                                       Protocol.ProtocolException or OperationCanceledException)
        {
            failure = new RealtimeConnectException($"Could not connect to {_client.Url}: {ex.Message}", ex);
        }

        ClientLog.AttemptFailed(_logger, RoomId, failure);
        _events.Raise(ConnectionEvents.Error, (Exception)failure);
        firstAttempt?.TrySetException(failure);
        if (failure.IsRejection)
        {
            // A rejection is final: no reconnection, and no Disconnect (the connection never connected).
            SetClosed();
        }

        return null;
    }

    private void SetClosed()
    {
        Interlocked.Exchange(ref _state, (int)ConnectionState.Closed);
        _outbound.Writer.TryComplete();
    }
}
