using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Realtime.Testing;

/// <summary>
/// A TCP proxy on 127.0.0.1 that sits between a client and a server and misbehaves on command, so that a test can
/// show what an app does when the network does: a peer that vanishes, a reset, a clean close, latency, a stall.
/// </summary>
/// <remarks>
/// <para>Faults set on the proxy apply at once to every proxied connection, open or new, until <see cref="Heal"/>.
/// <see cref="ProxiedConnection.Reset"/> and <see cref="ProxiedConnection.Close"/> end single connections.</para>
/// <para><see cref="Blackhole"/> loses what it swallows, as a dead network does, so a connection that was blackholed
/// mid-stream should be treated as broken even after <see cref="Heal"/>. <see cref="Throttle"/> with 0 bytes/s stalls
/// without losing anything: the bytes wait in the kernel buffers and flow again when the throttle is lifted.</para>
/// </remarks>
/// <example><code>
/// await using var proxy = await FaultProxy.StartAsync(host.Url);
/// // connect the client to proxy.Url instead of host.Url, then:
/// proxy.Blackhole(FaultDirection.Both); // the peer "vanishes": both sides must notice by their heartbeats
/// </code></example>
public sealed class FaultProxy : IAsyncDisposable
{
    private const int BufferSize = 16 * 1024;

    private readonly Socket _listener;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<ProxiedConnection, byte> _connections = new();
    private readonly Task _acceptLoop;
    private readonly Lock _gate = new();
    private Faults _toServer = Faults.None;
    private Faults _toClient = Faults.None;
    private TaskCompletionSource _changed = NewSignal();
    private int _disposed;

    private FaultProxy(Socket listener, IPEndPoint target, Uri targetUrl)
    {
        _listener = listener;
        _target = target;
        Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        Url = new UriBuilder(targetUrl) { Host = "127.0.0.1", Port = Port }.Uri;
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>The proxy's port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The target's URL with the proxy's host and port: connect clients here.</summary>
    public Uri Url { get; }

    /// <summary>The connections the proxy carries now (a snapshot).</summary>
    public IReadOnlyCollection<ProxiedConnection> Connections => [.. _connections.Keys];

    /// <summary>Starts a proxy on a free port of 127.0.0.1 that forwards to the host and port of <paramref name="targetUrl"/> (for example <c>ws://127.0.0.1:5000/realtime</c>).</summary>
    /// <param name="targetUrl">The server's URL; its host must be an IP address (loopback in tests).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running proxy; <see cref="Url"/> is <paramref name="targetUrl"/> with the proxy's port.</returns>
    public static Task<FaultProxy> StartAsync(Uri targetUrl, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(targetUrl);
        if (!IPAddress.TryParse(targetUrl.Host, out IPAddress? address))
        {
            throw new ArgumentException($"The target host must be an IP address, such as 127.0.0.1 (it is '{targetUrl.Host}').", nameof(targetUrl));
        }

        return StartCoreAsync(new IPEndPoint(address, targetUrl.Port), targetUrl, cancellationToken);
    }

    /// <summary>Swallows every byte in <paramref name="direction"/>: connections stay open, nothing arrives. What is swallowed is lost.</summary>
    /// <param name="direction">The direction or directions to blackhole.</param>
    public void Blackhole(FaultDirection direction = FaultDirection.Both) => Update(direction, f => f with { Blackholed = true });

    /// <summary>Holds every chunk of bytes in <paramref name="direction"/> for <paramref name="latency"/> before forwarding it (chunks stay in order).</summary>
    /// <param name="latency">The added one-way latency; <see cref="TimeSpan.Zero"/> removes it.</param>
    /// <param name="direction">The direction or directions to delay.</param>
    public void Delay(TimeSpan latency, FaultDirection direction = FaultDirection.Both)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(latency, TimeSpan.Zero);
        Update(direction, f => f with { Latency = latency });
    }

    /// <summary>Limits the flow in <paramref name="direction"/> to <paramref name="bytesPerSecond"/>; 0 stops it without losing bytes.</summary>
    /// <param name="bytesPerSecond">The rate; 0 stalls the direction until the throttle is lifted.</param>
    /// <param name="direction">The direction or directions to throttle.</param>
    public void Throttle(int bytesPerSecond, FaultDirection direction = FaultDirection.Both)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytesPerSecond);
        Update(direction, f => f with { BytesPerSecond = bytesPerSecond });
    }

    /// <summary>
    /// Inverts every byte forwarded in <paramref name="direction"/> (each byte XOR 0xFF): the peer reads frames that break the
    /// WebSocket protocol, as from a corrupting middlebox, and fails the connection as a transport error.
    /// </summary>
    /// <param name="direction">The direction or directions to corrupt.</param>
    public void Corrupt(FaultDirection direction = FaultDirection.Both) => Update(direction, f => f with { Corrupted = true });

    /// <summary>Removes every blackhole, delay, throttle and corruption.</summary>
    public void Heal() => Update(FaultDirection.Both, _ => Faults.None);

    /// <summary>Resets every open connection (TCP RST to both sides).</summary>
    public void ResetConnections()
    {
        foreach (ProxiedConnection connection in _connections.Keys)
        {
            connection.Reset();
        }
    }

    /// <summary>Closes every open connection cleanly (TCP FIN to both sides, without any WebSocket close frame).</summary>
    public void CloseConnections()
    {
        foreach (ProxiedConnection connection in _connections.Keys)
        {
            connection.Close();
        }
    }

    /// <summary>Stops listening and closes every proxied connection.</summary>
    /// <returns>A task that completes when the proxy has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        CloseConnections();
        await _acceptLoop.ConfigureAwait(false);
        _stopping.Dispose();
    }

    private static Task<FaultProxy> StartCoreAsync(IPEndPoint target, Uri targetUrl, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(512);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        return Task.FromResult(new FaultProxy(listener, target, targetUrl));
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void Update(FaultDirection direction, Func<Faults, Faults> change)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            if (direction.HasFlag(FaultDirection.ClientToServer))
            {
                _toServer = change(_toServer);
            }

            if (direction.HasFlag(FaultDirection.ServerToClient))
            {
                _toClient = change(_toClient);
            }

            changed = _changed;
            _changed = NewSignal();
        }

        changed.TrySetResult();
    }

    private (Faults Faults, Task Changed) Current(FaultDirection direction)
    {
        lock (_gate)
        {
            return (direction == FaultDirection.ClientToServer ? _toServer : _toClient, _changed.Task);
        }
    }

    private async Task AcceptLoopAsync()
    {
        var pending = new List<Task>();
        try
        {
            while (true)
            {
                Socket client = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
                pending.RemoveAll(t => t.IsCompleted);
                pending.Add(RunConnectionAsync(client));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Stopped.
        }

        await Task.WhenAll(pending).ConfigureAwait(false);
    }

    private async Task RunConnectionAsync(Socket client)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        var connection = new ProxiedConnection(client, server);
        try
        {
            await server.ConnectAsync(_target, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            connection.Reset(); // nothing listens there: the client sees what it would see without the proxy
            return;
        }

        _connections.TryAdd(connection, 0);
        try
        {
            await Task.WhenAll(
                PumpAsync(connection, client, server, FaultDirection.ClientToServer),
                PumpAsync(connection, server, client, FaultDirection.ServerToClient)).ConfigureAwait(false);
        }
        finally
        {
            _connections.TryRemove(connection, out _);
            connection.Dispose();
        }
    }

    /// <summary>
    /// Copies one direction until its source ends. The end (FIN) or a failure (RST) is passed on to the other side,
    /// unless the direction is blackholed: a vanished peer's close never arrives either.
    /// </summary>
    private async Task PumpAsync(ProxiedConnection connection, Socket from, Socket to, FaultDirection direction)
    {
        byte[] buffer = new byte[BufferSize];
        CancellationToken stopping = _stopping.Token;
        try
        {
            while (true)
            {
                await WaitWhileStalledAsync(direction, stopping).ConfigureAwait(false);
                int read = await from.ReceiveAsync(buffer, SocketFlags.None, stopping).ConfigureAwait(false);
                if (read == 0)
                {
                    if (!Current(direction).Faults.Blackholed)
                    {
                        to.Shutdown(SocketShutdown.Send);
                    }

                    return;
                }

                await ForwardAsync(buffer.AsMemory(0, read), to, direction, stopping).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            if (!Current(direction).Faults.Blackholed || stopping.IsCancellationRequested)
            {
                connection.Reset();
            }
        }
    }

    private async Task WaitWhileStalledAsync(FaultDirection direction, CancellationToken cancellationToken)
    {
        while (true)
        {
            (Faults faults, Task changed) = Current(direction);
            if (!faults.Stalled)
            {
                return;
            }

            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ForwardAsync(ReadOnlyMemory<byte> data, Socket to, FaultDirection direction, CancellationToken cancellationToken)
    {
        bool delayed = false;
        bool corrupted = false;
        while (!data.IsEmpty)
        {
            (Faults faults, Task changed) = Current(direction);
            if (faults.Blackholed)
            {
                return;
            }

            if (faults.Stalled)
            {
                await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (!delayed && faults.Latency > TimeSpan.Zero)
            {
                delayed = true;
                await Task.Delay(faults.Latency, cancellationToken).ConfigureAwait(false);
                continue; // the faults may have changed meanwhile
            }

            if (faults.Corrupted && !corrupted)
            {
                corrupted = true; // once: a throttled remainder is already inverted
                byte[] inverted = data.ToArray();
                for (int i = 0; i < inverted.Length; i++)
                {
                    inverted[i] ^= 0xFF;
                }

                data = inverted;
            }

            // Throttled: send in slices of about 1/20 s worth of bytes, each followed by its share of a second.
            int slice = faults.BytesPerSecond is int rate ? Math.Min(data.Length, Math.Max(1, rate / 20)) : data.Length;
            int sent = await to.SendAsync(data[..slice], SocketFlags.None, cancellationToken).ConfigureAwait(false);
            data = data[sent..];
            if (faults.BytesPerSecond is int bytesPerSecond)
            {
                await Task.Delay(TimeSpan.FromSeconds((double)sent / bytesPerSecond), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private sealed record Faults(bool Blackholed, TimeSpan Latency, int? BytesPerSecond, bool Corrupted = false)
    {
        public static readonly Faults None = new(false, TimeSpan.Zero, null);

        /// <summary>Throttled to 0 (and not blackholed, which keeps reading to swallow).</summary>
        public bool Stalled => BytesPerSecond == 0 && !Blackholed;
    }
}
