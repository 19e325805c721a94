using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Realtime.Server.Diagnostics;

namespace Realtime.Server.Internal;

/// <summary>
/// How a server stops with its application: it then refuses new upgrades (503), cancels the request heads dense connections are still
/// reading, and closes every connection with 1001, the handshaking ones included. It tracks what is not yet in the node's registry.
/// </summary>
internal sealed class ServerShutdown(LocalNode node, ILogger logger)
{
    private readonly ConcurrentDictionary<ServerConnection, byte> _handshaking = new();
    private readonly ConcurrentDictionary<CancellationTokenSource, byte> _headReads = new(); // dense connections still reading their request
    private volatile bool _stopping;
    private int _registered;

    /// <summary>Whether the application is stopping.</summary>
    public bool IsStopping => _stopping;

    public void AddHandshaking(ServerConnection connection) => _handshaking.TryAdd(connection, 0);

    public void RemoveHandshaking(ServerConnection connection) => _handshaking.TryRemove(connection, out _);

    /// <summary>
    /// A dense connection starts reading its request head: <paramref name="read"/> is cancelled when the server stops. Returns
    /// <see langword="false"/> when it is stopping already. (One entry per read, gone with it: nothing registers on the
    /// connection's own tokens, whose registration lists would stay with every connection for its life.)
    /// </summary>
    public bool AddHeadRead(CancellationTokenSource read)
    {
        _headReads.TryAdd(read, 0);
        if (_stopping)
        {
            _headReads.TryRemove(read, out _);
            return false;
        }

        return true;
    }

    public void RemoveHeadRead(CancellationTokenSource read) => _headReads.TryRemove(read, out _);

    /// <summary>Stops with the application (registered once, however many endpoints and listeners map the server).</summary>
    public void StopWith(IHostApplicationLifetime lifetime)
    {
        if (Interlocked.Exchange(ref _registered, 1) == 0)
        {
            node.Features.Stopping = lifetime.ApplicationStopping;
            lifetime.ApplicationStopping.Register(static s => ((ServerShutdown)s!).Stop(), this);
        }
    }

    /// <summary>Application stopping: refuse new upgrades (503), then close every connection with 1001.</summary>
    public void Stop()
    {
        _stopping = true;
        RealtimeLog.ShuttingDown(logger, node.ConnectionCount + _handshaking.Count);
        foreach (CancellationTokenSource read in _headReads.Keys)
        {
            read.Cancel();
        }

        foreach (ServerConnection connection in _handshaking.Keys)
        {
            connection.NoteRefusal(MetricTags.ShuttingDown);
            connection.RequestClose(DisconnectReason.TransportClose, Protocol.CloseCodes.GoingAway, "Server shutting down", drain: false);
        }

        foreach (KeyValuePair<string, ServerConnection> pair in node.Connections)
        {
            pair.Value.RequestClose(DisconnectReason.TransportClose, Protocol.CloseCodes.GoingAway, "Server shutting down", drain: true);
        }
    }
}
