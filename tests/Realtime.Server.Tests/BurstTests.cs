using Realtime.Server;

namespace Realtime.Server.Tests;

/// <summary>The defaults let a legitimate burst through: a paste into a shared sheet, a replay after an offline spell.</summary>
public abstract class BurstTests(HostMode mode)
{
    /// <summary>Against <c>MapRealtime</c>.</summary>
    public sealed class OnEndpoint() : BurstTests(HostMode.Endpoint);

    /// <summary>Against the dense listener (<c>ListenOptions.UseRealtime</c>).</summary>
    public sealed class OnDenseListener() : BurstTests(HostMode.Dense);

    [Fact]
    public async Task With_default_options_a_burst_of_2000_messages_reaches_two_receivers_whole_and_in_order()
    {
        const int Burst = 2000;
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(mode); // default options, the relay
        var client = new Client.Client(host.Url);
        await using Connection sender = await client.ConnectAsync("sheet").DefaultTimeout();
        var receivers = new List<WatchedList<int>>();
        var connections = new List<Connection>();
        for (int r = 0; r < 2; r++)
        {
            var received = new WatchedList<int>();
            Connection receiver = await client.ConnectAsync("sheet").DefaultTimeout();
            receiver.On(ConnectionEvents.Message, m => received.Add(m.Data.GetProperty("cell").GetInt32()));
            await host.Connections.WaitAsync(receiver.Id!);
            receivers.Add(received);
            connections.Add(receiver);
        }

        await host.Connections.WaitAsync(sender.Id!);
        var disconnects = new WatchedList<string>();
        foreach (Connection c in connections.Append(sender))
        {
            c.On(ConnectionEvents.Disconnect, reason => disconnects.Add(reason.ToString()));
        }

        // As fast as the client can: SendAsync only waits for room in the client's own buffer (1000 by default).
        for (int i = 0; i < Burst; i++)
        {
            await sender.SendAsync(new { cell = i, value = "pasted text of a spreadsheet cell" }, "cell");
        }

        foreach (WatchedList<int> received in receivers)
        {
            await received.WaitForAsync(x => x.Count == Burst, $"{Burst} relayed messages");
            Assert.Equal(Enumerable.Range(0, Burst), received.Items);
        }

        Assert.Empty(disconnects.Items);
        Assert.True(sender.Connected);
        foreach (Connection c in connections)
        {
            await c.DisposeAsync();
        }
    }
}
