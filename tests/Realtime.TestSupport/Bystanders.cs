using Realtime.Client;

namespace Realtime.TestSupport;

/// <summary>
/// Two well-behaved members of a room, connected directly (never through a fault): whatever happens to another
/// connection, they must keep exchanging messages.
/// </summary>
public sealed class Bystanders : IAsyncDisposable
{
    private int _round;

    private Bystanders(ConnectionRecorder first, ConnectionRecorder second)
    {
        First = first;
        Second = second;
    }

    public ConnectionRecorder First { get; }

    public ConnectionRecorder Second { get; }

    /// <summary>Connects two members to <paramref name="roomId"/> and waits until the server has both in the room.</summary>
    public static async Task<Bystanders> ConnectAsync(KestrelRealtimeHost host, string roomId = "room1")
    {
        var client = new Client.Client(host.Url);
        Connection first = await client.ConnectAsync(roomId).DefaultTimeout();
        Connection second = await client.ConnectAsync(roomId).DefaultTimeout();
        await host.Connections.WaitAsync(first.Id!);
        await host.Connections.WaitAsync(second.Id!);
        return new Bystanders(new ConnectionRecorder(first), new ConnectionRecorder(second));
    }

    /// <summary>Each sends a message of a fresh type to the other; both must arrive, and neither may have disconnected.</summary>
    public async Task AssertExchangeAsync()
    {
        string type = "bystander-" + Interlocked.Increment(ref _round);
        First.Connection.Send(new { from = 1 }, type);
        Second.Connection.Send(new { from = 2 }, type);
        await Second.WaitForEventAsync("message:" + type);
        await First.WaitForEventAsync("message:" + type);
        foreach (ConnectionRecorder member in (ConnectionRecorder[])[First, Second])
        {
            if (member.Events.Any(e => e.StartsWith("disconnect", StringComparison.Ordinal)))
            {
                throw new InvalidOperationException("A bystander was disconnected: " + string.Join(", ", member.Events));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await First.Connection.DisposeAsync();
        await Second.Connection.DisposeAsync();
    }
}
