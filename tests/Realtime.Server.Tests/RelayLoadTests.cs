using System.Collections.Concurrent;

namespace Realtime.Server.Tests;

public abstract class RelayLoadTests(HostMode mode)
{
    /// <summary>Against <c>MapRealtime</c>.</summary>
    public sealed class OnEndpoint() : RelayLoadTests(HostMode.Endpoint);

    /// <summary>Against the dense listener (<c>ListenOptions.UseRealtime</c>).</summary>
    public sealed class OnDenseListener() : RelayLoadTests(HostMode.Dense);

    [Fact]
    public async Task Ten_thousand_messages_from_one_client_reach_two_receivers_all_in_order()
    {
        const int Count = 10_000;
        // The sender can run ahead of a receiver starved of CPU; with the default bound (1024) such a receiver would be
        // cut off as a slow consumer (4003), by design. Here the bound holds the whole burst, so nothing may be lost;
        // and the sender's burst is far above the default inbound rate limit, which is turned off.
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(mode, o =>
        {
            o.MaxQueuedMessages = 16_384;
            o.MaxMessagesPerSecond = 0;
        });
        var client = new Client.Client(host.Url);
        await using Connection sender = await client.ConnectAsync("room1").DefaultTimeout();
        Receiver[] receivers = [new(await client.ConnectAsync("room1").DefaultTimeout(), Count), new(await client.ConnectAsync("room1").DefaultTimeout(), Count)];

        for (int i = 0; i < Count; i++)
        {
            await sender.SendAsync(new { n = i }, "seq");
        }

        foreach (Receiver receiver in receivers)
        {
            // A heavier test than most: a longer deadline than DefaultTimeout for slow, shared CI machines.
            await receiver.Done.Task.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(0, receiver.Disconnects);
            Assert.Equal(Enumerable.Range(0, Count), receiver.Received);
            await receiver.Connection.DisposeAsync();
        }
    }

    private sealed class Receiver
    {
        public Receiver(Connection connection, int expected)
        {
            Connection = connection;
            connection.On(ConnectionEvents.Disconnect, _ => Interlocked.Increment(ref _disconnects));
            connection.On(ConnectionEvents.Message, m =>
            {
                Received.Enqueue(m.Data.GetProperty("n").GetInt32());
                if (Received.Count == expected)
                {
                    Done.TrySetResult();
                }
            });
        }

        private int _disconnects;

        public Connection Connection { get; }

        public int Disconnects => Volatile.Read(ref _disconnects);

        public ConcurrentQueue<int> Received { get; } = new();

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
