using System.Collections.Concurrent;

namespace Realtime.Server.Tests;

public class RelayLoadTests
{
    [Fact]
    public async Task Ten_thousand_messages_from_one_client_reach_two_receivers_all_in_order()
    {
        const int Count = 10_000;
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync();
        var client = new Client.Client(host.Url);
        await using Connection sender = await client.ConnectAsync("room1").DefaultTimeout();
        Receiver[] receivers = [new(await client.ConnectAsync("room1").DefaultTimeout(), Count), new(await client.ConnectAsync("room1").DefaultTimeout(), Count)];

        for (int i = 0; i < Count; i++)
        {
            await sender.SendAsync(new { n = i }, "seq");
        }

        foreach (Receiver receiver in receivers)
        {
            await receiver.Done.Task.DefaultTimeout("all messages at a receiver");
            Assert.Equal(Enumerable.Range(0, Count), receiver.Received);
            await receiver.Connection.DisposeAsync();
        }
    }

    private sealed class Receiver
    {
        public Receiver(Connection connection, int expected)
        {
            Connection = connection;
            connection.On(ConnectionEvents.Message, m =>
            {
                Received.Enqueue(m.Data.GetProperty("n").GetInt32());
                if (Received.Count == expected)
                {
                    Done.TrySetResult();
                }
            });
        }

        public Connection Connection { get; }

        public ConcurrentQueue<int> Received { get; } = new();

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
