using System.Collections.Concurrent;
using Realtime.Server;

namespace Realtime.TestSupport;

/// <summary>
/// Awaits a connection's connect hooks on the server side. They run after <c>welcome</c> is queued, so a
/// client's Connect event can come first: tests that depend on what the hooks did wait here instead of racing them.
/// </summary>
public sealed class ServerConnectionProbe
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<ServerConnection>> _connected = new(StringComparer.Ordinal);

    public ServerConnectionProbe(RealtimeServer server)
        => server.On(ServerEvents.Connect, ctx => Entry(ctx.Connection.Id).TrySetResult(ctx.Connection));

    /// <summary>Completes when the connection's connect hooks have run (it is then in its room).</summary>
    public Task<ServerConnection> WaitAsync(string connectionId) => Entry(connectionId).Task.DefaultTimeout($"the server-side connection {connectionId}");

    private TaskCompletionSource<ServerConnection> Entry(string id)
        => _connected.GetOrAdd(id, _ => new TaskCompletionSource<ServerConnection>(TaskCreationOptions.RunContinuationsAsynchronously));
}
