using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Realtime.Protocol;
using Realtime.Server;

namespace Realtime.Server.Tests;

/// <summary>
/// The documented instruments (docs/server.md, "Logging and metrics") read with a meter listener after scripted traffic on real
/// Kestrel: their values and their tags. Refusals are in <see cref="RefusalMetricsTests"/>.
/// </summary>
public class MetricsTests
{
    private const string Endpoint = "realtime.endpoint";
    private const string Protocol = "realtime.protocol";
    private const string DisconnectReason = "realtime.disconnect.reason";

    [Fact]
    public async Task A_relay_between_two_clients_is_measured_in_and_out_with_its_fan_out_its_latency_and_the_room()
    {
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(o => o.PingInterval = TimeSpan.FromSeconds(30));
        using var instruments = new ServerInstruments(host.Services);
        Assert.Equal(0, instruments.RoomsNow());

        RawProtocolClient ann = await RawProtocolClient.ConnectWelcomedAsync(host.Url);
        RawProtocolClient bob = await RawProtocolClient.ConnectWelcomedAsync(host.Url);
        await host.Connections.WaitForOpenCountAsync(2);
        Assert.Equal(2, ServerInstruments.Sum(instruments.Connections, (Endpoint, "websocket"), (Protocol, "realtime.v1")));
        Assert.Equal(1, instruments.RoomsNow());

        const int N = 5;
        long sentBytes = 2 * Encoding.UTF8.GetByteCount("{\"t\":\"hello\"}");
        long relayedBytes = 0;
        for (int i = 0; i < N; i++)
        {
            string frame = "{\"t\":\"msg\",\"type\":\"note\",\"data\":{\"n\":" + i + "}}";
            sentBytes += Encoding.UTF8.GetByteCount(frame);
            await ann.SendTextAsync(frame);
            relayedBytes += Encoding.UTF8.GetByteCount(await bob.ReceiveStartingWithAsync("{\"t\":\"msg\""));
        }

        // Counted before the relayed message was queued, or right after its processing: awaited, never slept on.
        await instruments.MessageDuration.WaitForMeasurementsAsync(N).DefaultTimeout("the message durations");
        await instruments.Recipients.WaitForMeasurementsAsync(N).DefaultTimeout("the broadcast fan-outs");

        Assert.All(instruments.MessagesReceived.GetMeasurementSnapshot(), m => Assert.Equal("realtime.v1", m.Tags[Protocol]));
        Assert.Equal(N, ServerInstruments.Sum(instruments.MessagesReceived));
        Assert.Equal(N, ServerInstruments.Sum(instruments.MessagesSent)); // each relay reached the one other member
        Assert.Equal(Enumerable.Repeat(1L, N), instruments.Recipients.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.All(instruments.MessageDuration.GetMeasurementSnapshot(), m => Assert.InRange(m.Value, double.Epsilon, 15));
        Assert.Equal(N, instruments.MessageDuration.GetMeasurementSnapshot().Count);
        Assert.Equal(sentBytes, ServerInstruments.Sum(instruments.BytesReceived, (Protocol, "realtime.v1")));
        Assert.Equal(sentBytes, ServerInstruments.Sum(instruments.BytesReceived)); // every measurement carries the protocol

        // Both leave with a close of their own.
        await ann.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, string.Empty, CancellationToken.None).DefaultTimeout("Ann's close");
        await bob.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, string.Empty, CancellationToken.None).DefaultTimeout("Bob's close");
        await host.Connections.WaitForOpenCountAsync(0);
        await instruments.QueuedAtClose.WaitForMeasurementsAsync(2).DefaultTimeout("the queue depths at close");
        await instruments.QueuedBytesAtClose.WaitForMeasurementsAsync(2).DefaultTimeout("the queued bytes at close");

        // What the send loops wrote (they ended before the disconnect hooks): the relayed frames Bob read, and the two welcomes.
        Assert.InRange(ServerInstruments.Sum(instruments.BytesSent), relayedBytes + 2, relayedBytes + 1024);
        Assert.Equal(0, ServerInstruments.Sum(instruments.Connections, (Endpoint, "websocket"), (Protocol, "realtime.v1")));
        Assert.Equal(0, instruments.RoomsNow());
        Assert.Equal(2, ServerInstruments.Sum(instruments.Disconnects, (DisconnectReason, "client_disconnect")));
        Assert.All(instruments.Disconnects.GetMeasurementSnapshot(), m => Assert.Single(m.Tags));
        IReadOnlyList<CollectedMeasurement<double>> lives = instruments.ConnectionDuration.GetMeasurementSnapshot();
        Assert.Equal(2, lives.Count);
        Assert.All(lives, m =>
        {
            Assert.InRange(m.Value, double.Epsilon, 60);
            Assert.Equal("websocket", m.Tags[Endpoint]);
            Assert.Equal("realtime.v1", m.Tags[Protocol]);
            Assert.Equal("client_disconnect", m.Tags[DisconnectReason]);
        });
        Assert.Equal(new long[] { 0, 0 }, instruments.QueuedAtClose.GetMeasurementSnapshot().Select(m => m.Value)); // everything was sent
        Assert.Equal(new long[] { 0, 0 }, instruments.QueuedBytesAtClose.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.Equal(0, ServerInstruments.Sum(instruments.SlowConsumers));
        Assert.Empty(instruments.Refusals.GetMeasurementSnapshot());
        await ann.DisposeAsync();
        await bob.DisposeAsync();
    }

    [Fact]
    public async Task Connections_are_told_apart_by_endpoint_kind_and_protocol()
    {
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(HostMode.Dense, o => o.PingInterval = TimeSpan.FromSeconds(30));
        using var instruments = new ServerInstruments(host.Services);

        await using RawProtocolClient dense = await RawProtocolClient.ConnectWelcomedAsync(host.Url);
        string compatId = SocketIoTestClient.NewId();
        await using SocketIoTestClient compat = await SocketIoTestClient.ConnectAcceptedAsync(host.CollaborationUrl, compatId);
        await host.Connections.WaitForOpenCountAsync(2);

        Assert.Equal(1, ServerInstruments.Sum(instruments.Connections, (Endpoint, "dense"), (Protocol, "realtime.v1")));
        Assert.Equal(1, ServerInstruments.Sum(instruments.Connections, (Endpoint, "websocket"), (Protocol, "js-collaboration")));
        Assert.Equal(2, ServerInstruments.Sum(instruments.Connections));
        Assert.Equal(1, instruments.RoomsNow()); // both in room1, whatever their wire

        // A message on the compatibility wire, relayed to the dense listener's client.
        await compat.SendMessageAsync("note", """{"n":1}""");
        await dense.ReceiveStartingWithAsync("{\"t\":\"msg\"");
        await instruments.MessageDuration.WaitForMeasurementsAsync(1).DefaultTimeout("the message's duration");
        Assert.Equal(1, ServerInstruments.Sum(instruments.MessagesReceived, (Protocol, "js-collaboration")));
        Assert.Equal(1, ServerInstruments.Sum(instruments.MessagesReceived));
        Assert.True(ServerInstruments.Sum(instruments.BytesReceived, (Protocol, "js-collaboration")) > 0);
        Assert.True(ServerInstruments.Sum(instruments.BytesReceived, (Protocol, "realtime.v1")) > 0); // the dense client's hello
        Assert.Equal(1, ServerInstruments.Sum(instruments.MessagesSent));

        dense.Socket.Abort();
        Assert.Equal(Realtime.DisconnectReason.TransportClose, await host.Connections.WaitForDisconnectAsync(dense.ConnectionId!));
        Assert.Equal(0, ServerInstruments.Sum(instruments.Connections, (Endpoint, "dense"), (Protocol, "realtime.v1")));
        Assert.Equal(1, ServerInstruments.Sum(instruments.Disconnects, (DisconnectReason, "transport_close")));
        CollectedMeasurement<double> life = Assert.Single(instruments.ConnectionDuration.GetMeasurementSnapshot());
        Assert.Equal("dense", life.Tags[Endpoint]);
        Assert.Equal("transport_close", life.Tags[DisconnectReason]);
    }

    [Fact]
    public async Task A_slow_consumer_cut_is_counted_with_what_its_queue_still_held()
    {
        var logs = new LogSink();
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(o =>
        {
            o.PingInterval = TimeSpan.FromSeconds(30);
            o.PingTimeout = TimeSpan.FromSeconds(30);
            o.MaxMessagesPerSecond = 0;
            o.MaxQueuedMessages = 16;
        }, logs: logs);
        await using Bystanders bystanders = await Bystanders.ConnectAsync(host);
        await using RawProtocolClient stalled = await RawProtocolClient.ConnectWelcomedAsync(host.Url);
        string id = stalled.ConnectionId!;
        await host.Connections.WaitAsync(id);
        using var instruments = new ServerInstruments(host.Services);

        // The stalled client reads nothing. The stream goes in windows of 8 (half its queue) that the reading bystander acknowledges,
        // so its send loop always has the time to catch up while it can: the queue fills only once the kernel's buffers are full.
        string payload = new('x', 16 * 1024);
        Task<LogSink.LogEntry> cutOff = logs.WaitForAsync("SlowConsumer", e => Equals(e.Value("ConnectionId"), id));
        int sent = 0;
        while (!cutOff.IsCompleted)
        {
            Assert.True(sent < 20_000, "the stalled connection was never cut off");
            for (int i = 0; i < 8; i++, sent++)
            {
                bystanders.First.Connection.Send(new { n = sent, payload }, "stream");
            }

            await bystanders.Second.WaitForCountAsync("message:stream", sent);
        }

        await cutOff;
        Assert.Equal(CloseCodes.SlowConsumer, await stalled.ReceiveCloseAsync()); // reads what the kernel held, then the close
        await host.Connections.WaitForDisconnectAsync(id);
        await instruments.QueuedAtClose.WaitForMeasurementsAsync(1).DefaultTimeout("the queue depth at close");
        await instruments.QueuedBytesAtClose.WaitForMeasurementsAsync(1).DefaultTimeout("the queued bytes at close");

        Assert.Equal(1, ServerInstruments.Sum(instruments.SlowConsumers));
        long frames = Assert.Single(instruments.QueuedAtClose.GetMeasurementSnapshot()).Value;
        long bytes = Assert.Single(instruments.QueuedBytesAtClose.GetMeasurementSnapshot()).Value;
        Assert.InRange(frames, 1, 16); // what the full queue held, less what its blocked send loop had taken
        Assert.InRange(bytes, frames * 16 * 1024, (frames + 2) * 17 * 1024); // and a write that never completed
        Assert.Equal(1, ServerInstruments.Sum(instruments.Disconnects, (DisconnectReason, "transport_error")));
        await bystanders.AssertExchangeAsync();
    }
}
