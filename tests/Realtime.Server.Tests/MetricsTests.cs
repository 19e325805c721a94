using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Realtime.Server;

namespace Realtime.Server.Tests;

public class MetricsTests
{
    [Fact]
    public async Task Connections_messages_and_disconnects_are_measured_with_low_cardinality_tags()
    {
        await using var app = new RealtimeAppFactory();
        IMeterFactory meters = app.Services.GetRequiredService<IMeterFactory>();
        using var connections = new MetricCollector<long>(meters, "Realtime.Server", "realtime.server.connections");
        using var disconnects = new MetricCollector<long>(meters, "Realtime.Server", "realtime.server.disconnects");
        using var received = new MetricCollector<long>(meters, "Realtime.Server", "realtime.server.messages.received");
        var left = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.RealtimeServer.On(ServerEvents.Disconnect, _ => left.TrySetResult());

        Connection ann = await app.CreateRealtimeClient().ConnectAsync("room1").DefaultTimeout();
        await ann.SendAsync("a", "x").DefaultTimeout();
        await ann.SendAsync("b", "x").DefaultTimeout();
        await ann.DisposeAsync();
        await left.Task.DefaultTimeout("the disconnect hook");

        Assert.Equal(new long[] { 1, -1 }, connections.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.Equal(2, received.GetMeasurementSnapshot().Sum(m => m.Value));
        CollectedMeasurement<long> disconnect = Assert.Single(disconnects.GetMeasurementSnapshot());
        Assert.Equal("ClientDisconnect", disconnect.Tags["reason"]);
        Assert.Single(disconnect.Tags);
    }
}
