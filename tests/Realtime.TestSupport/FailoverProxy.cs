using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Realtime.TestSupport;

/// <summary>
/// A load balancer in front of a cluster, in miniature: a TCP listener on 127.0.0.1 that hands each new connection to the first of its
/// backends (loopback ports, in the order given) that accepts one, then copies the bytes both ways until either side ends, and ends the
/// other then. A node that died refuses connections, so the clients that reconnect after it died reach the next backend; connections
/// already handed on stay where they are. (Realtime.Testing's <c>FaultProxy</c> has one target and injects faults; this one has
/// several and only chooses.)
/// </summary>
public sealed class FailoverProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int[] _backendPorts;
    private readonly ConcurrentDictionary<int, int> _handedOn = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _accepting;

    /// <summary>Starts listening on a free port, in front of the backends on <paramref name="backendPorts"/> (the first preferred).</summary>
    public FailoverProxy(params int[] backendPorts)
    {
        ArgumentOutOfRangeException.ThrowIfZero(backendPorts.Length);
        _backendPorts = backendPorts;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptConnectionsAsync();
    }

    public int Port { get; }

    /// <summary>The proxy's URL for Realtime's endpoint at <paramref name="path"/>.</summary>
    public string Url(string path = "/realtime") => $"ws://127.0.0.1:{Port}{path}";

    /// <summary>How many connections the proxy has handed on to the backend on <paramref name="backendPort"/>.</summary>
    public int ConnectionsHandedTo(int backendPort) => _handedOn.GetValueOrDefault(backendPort);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stopping.Dispose();
    }

    private async Task AcceptConnectionsAsync()
    {
        var carried = new List<Task>();
        try
        {
            while (true)
            {
                Socket client = await _listener.AcceptSocketAsync(_stopping.Token);
                carried.RemoveAll(task => task.IsCompleted);
                carried.Add(CarryAsync(client));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Stopped.
        }

        await Task.WhenAll(carried);
    }

    /// <summary>Hands <paramref name="client"/> to the first live backend (none live: it is closed, as a load balancer with no healthy
    /// node does) and copies both ways until one side ends; the stop of the proxy ends it too.</summary>
    private async Task CarryAsync(Socket client)
    {
        using (client)
        {
            client.NoDelay = true;
            using Socket? backend = await ConnectToFirstLiveBackendAsync();
            if (backend is null)
            {
                return;
            }

            await using var fromClient = new NetworkStream(client, ownsSocket: false);
            await using var fromBackend = new NetworkStream(backend, ownsSocket: false);
            Task[] directions = [fromClient.CopyToAsync(fromBackend, _stopping.Token), fromBackend.CopyToAsync(fromClient, _stopping.Token)];
            await Task.WhenAny(directions);

            // One side ended (a FIN, a reset, the proxy stopping): the other is ended too, without a WebSocket close, as a dead node's is.
            client.Close();
            backend.Close();
            try
            {
                await Task.WhenAll(directions);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
            {
                // The direction that was still copying, cut.
            }
        }
    }

    private async Task<Socket?> ConnectToFirstLiveBackendAsync()
    {
        foreach (int port in _backendPorts)
        {
            var backend = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await backend.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), _stopping.Token);
                _handedOn.AddOrUpdate(port, 1, (_, count) => count + 1);
                return backend;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                backend.Dispose(); // refused: that node is down; try the next
            }
        }

        return null;
    }
}
