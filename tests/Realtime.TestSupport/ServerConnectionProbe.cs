using System.Collections.Concurrent;
using Realtime.Server;

namespace Realtime.TestSupport;

/// <summary>
/// Follows connections on the server side through its hooks. Connect hooks run after <c>welcome</c> is queued, so a
/// client's Connect event can come first: tests that depend on what the hooks did wait here instead of racing them.
/// </summary>
public sealed class ServerConnectionProbe
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<ServerConnection>> _connected = new(StringComparer.Ordinal);
    private readonly WatchedList<(string Id, DisconnectReason? Reason)> _events = new();

    public ServerConnectionProbe(RealtimeServer server)
    {
        server.On(ServerEvents.Connect, ctx =>
        {
            _events.Add((ctx.Connection.Id, null));
            Entry(ctx.Connection.Id).TrySetResult(ctx.Connection);
        });
        server.On(ServerEvents.Disconnect, ctx =>
        {
            _events.Add((ctx.Connection.Id, ctx.Reason));
            _connected.TryRemove(ctx.Connection.Id, out _); // keep ids, not connections: a long test must not hold every connection it saw
        });
    }

    /// <summary>Completes when the connection's connect hooks have run (it is then in its room). Ask before it disconnects.</summary>
    public Task<ServerConnection> WaitAsync(string connectionId) => Entry(connectionId).Task.DefaultTimeout($"the server-side connection {connectionId}");

    /// <summary>Completes when the connection's Disconnect hooks run (it has left its room and the server's count); returns the server-side reason.</summary>
    public async Task<DisconnectReason> WaitForDisconnectAsync(string connectionId)
    {
        await _events.WaitForAsync(e => e.Any(x => x.Id == connectionId && x.Reason is not null), $"the server-side Disconnect of {connectionId}");
        return _events.Items.First(x => x.Id == connectionId && x.Reason is not null).Reason!.Value;
    }

    /// <summary>Completes when exactly <paramref name="count"/> connections are between their Connect and Disconnect hooks.</summary>
    public Task WaitForOpenCountAsync(int count)
        => _events.WaitForAsync(e => e.Count(x => x.Reason is null) - e.Count(x => x.Reason is not null) == count, $"{count} open server-side connections");

    private TaskCompletionSource<ServerConnection> Entry(string id)
        => _connected.GetOrAdd(id, _ => new TaskCompletionSource<ServerConnection>(TaskCreationOptions.RunContinuationsAsynchronously));
}
