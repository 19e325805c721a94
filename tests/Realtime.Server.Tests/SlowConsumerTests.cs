using Realtime.Protocol;
using Realtime.Server;

namespace Realtime.Server.Tests;

/// <summary>
/// The fault matrix's slow-consumer row, on its own host: the stalled client cannot answer pings without reading, so
/// the heartbeat here is long enough never to close it first (with the matrix's 500 ms heartbeat a slow machine could).
/// </summary>
public abstract class SlowConsumerTests(HostMode mode)
{
    /// <summary>Against <c>MapRealtime</c>.</summary>
    public sealed class OnEndpoint() : SlowConsumerTests(HostMode.Endpoint);

    /// <summary>Against the dense listener (<c>ListenOptions.UseRealtime</c>).</summary>
    public sealed class OnDenseListener() : SlowConsumerTests(HostMode.Dense);

    [Fact]
    public async Task A_client_that_stops_reading_is_cut_off_with_4003_within_its_queue_bound_and_the_room_loses_nothing()
    {
        var logs = new LogSink();
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(mode, o =>
        {
            o.PingInterval = TimeSpan.FromSeconds(30);
            o.PingTimeout = TimeSpan.FromSeconds(30);
            o.MaxMessagesPerSecond = 0;
            o.MaxQueuedMessages = 100_000;
            o.MaxQueuedBytes = 256 * 1024;
        }, logs: logs);
        await using Bystanders bystanders = await Bystanders.ConnectAsync(host);
        await using RawProtocolClient stalled = await RawProtocolClient.ConnectWelcomedAsync(host.Url);
        string id = stalled.ConnectionId!;
        await host.Connections.WaitAsync(id);

        // A steady stream of 4 KiB messages, in windows that the reading bystander acknowledges, until the server gives
        // up on the stalled one. Bounded in count (the kernel buffers plus the queue bound need a few MiB at most).
        string payload = new('x', 4096);
        Task<LogSink.LogEntry> cutOff = logs.WaitForAsync("SlowConsumer", e => Equals(e.Value("ConnectionId"), id));
        int sent = 0;
        while (!cutOff.IsCompleted)
        {
            Assert.True(sent < 20_000, "the stalled connection was never cut off");
            for (int i = 0; i < 32; i++, sent++)
            {
                bystanders.First.Connection.Send(new { n = sent, payload }, "stream");
            }

            await bystanders.Second.WaitForCountAsync("message:stream", sent);
        }

        LogSink.LogEntry entry = await cutOff;
        Assert.True((long)entry.Value("QueuedBytes")! <= 256 * 1024, $"queued {entry.Value("QueuedBytes")} bytes at the cut-off");
        Console.WriteLine($"Slow consumer: cut off after {sent} messages of 4 KiB with {entry.Value("QueuedFrames")} frames / {entry.Value("QueuedBytes")} bytes queued (bound 262144 bytes).");

        // The stalled client reads again: what the kernel held, then the close frame.
        Assert.Equal(CloseCodes.SlowConsumer, await stalled.ReceiveCloseAsync());
        Assert.Equal(DisconnectReason.TransportError, await host.Connections.WaitForDisconnectAsync(id));

        Assert.Equal(Enumerable.Range(0, sent), bystanders.Second.Messages.Where(m => m.Type == "stream").Select(m => m.Data.GetProperty("n").GetInt32()));
        await bystanders.AssertExchangeAsync();
        Assert.Equal(2, host.Server.ConnectionCount);
        logs.AssertNoUnexpectedErrors();
    }

}
