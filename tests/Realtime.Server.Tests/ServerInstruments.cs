using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Realtime.Server.Tests;

/// <summary>
/// Every instrument of the meter <c>Realtime.Server</c> of one app, collected from its own meter factory (so that hosts of tests running
/// in parallel never mix), from before the traffic a test makes.
/// </summary>
internal sealed class ServerInstruments : IDisposable
{
    private readonly List<IDisposable> _collectors = [];

    public ServerInstruments(IServiceProvider services)
    {
        IMeterFactory meters = services.GetRequiredService<IMeterFactory>();
        Connections = Long(meters, "realtime.server.connections");
        ConnectionDuration = Double(meters, "realtime.server.connection.duration");
        Rooms = Long(meters, "realtime.server.rooms");
        MessagesReceived = Long(meters, "realtime.server.messages.received");
        MessagesSent = Long(meters, "realtime.server.messages.sent");
        BytesReceived = Long(meters, "realtime.server.bytes.received");
        BytesSent = Long(meters, "realtime.server.bytes.sent");
        Recipients = Long(meters, "realtime.server.broadcast.recipients");
        MessageDuration = Double(meters, "realtime.server.message.duration");
        QueuedAtClose = Long(meters, "realtime.server.outbound.queued_at_close");
        QueuedBytesAtClose = Long(meters, "realtime.server.outbound.queued_bytes_at_close");
        SlowConsumers = Long(meters, "realtime.server.slow_consumers");
        Refusals = Long(meters, "realtime.server.refusals");
        Disconnects = Long(meters, "realtime.server.disconnects");
        Skipped = Long(meters, "realtime.server.broadcast.skipped");
    }

    public MetricCollector<long> Connections { get; }

    public MetricCollector<double> ConnectionDuration { get; }

    public MetricCollector<long> Rooms { get; }

    public MetricCollector<long> MessagesReceived { get; }

    public MetricCollector<long> MessagesSent { get; }

    public MetricCollector<long> BytesReceived { get; }

    public MetricCollector<long> BytesSent { get; }

    public MetricCollector<long> Recipients { get; }

    public MetricCollector<double> MessageDuration { get; }

    public MetricCollector<long> QueuedAtClose { get; }

    public MetricCollector<long> QueuedBytesAtClose { get; }

    public MetricCollector<long> SlowConsumers { get; }

    public MetricCollector<long> Refusals { get; }

    public MetricCollector<long> Disconnects { get; }

    public MetricCollector<long> Skipped { get; }

    /// <summary>The rooms gauge now (its callback is observed on demand).</summary>
    public long RoomsNow()
    {
        Rooms.RecordObservableInstruments();
        return Rooms.LastMeasurement!.Value;
    }

    /// <summary>The sum of a counter's measurements whose tags include every one of <paramref name="tags"/>.</summary>
    public static long Sum(MetricCollector<long> collector, params (string Key, string Value)[] tags) => Sum(collector.GetMeasurementSnapshot(), tags);

    private static long Sum(IReadOnlyList<CollectedMeasurement<long>> measurements, (string Key, string Value)[] tags)
        => measurements.Where(m => tags.All(t => m.Tags.TryGetValue(t.Key, out object? v) && (string?)v == t.Value)).Sum(m => m.Value);

    /// <summary>Waits until the sum of a counter's measurements reaches <paramref name="total"/> (what it counts may happen after what the test awaited).</summary>
    public static async Task WaitForSumAsync(MetricCollector<long> collector, long total, params (string Key, string Value)[] tags)
    {
        while (true)
        {
            IReadOnlyList<CollectedMeasurement<long>> now = collector.GetMeasurementSnapshot();
            if (Sum(now, tags) >= total)
            {
                return;
            }

            await collector.WaitForMeasurementsAsync(now.Count + 1).DefaultTimeout($"{collector.Instrument?.Name} to reach {total}");
        }
    }

    public void Dispose()
    {
        foreach (IDisposable collector in _collectors)
        {
            collector.Dispose();
        }
    }

    private MetricCollector<long> Long(IMeterFactory meters, string name) => Add(new MetricCollector<long>(meters, "Realtime.Server", name));

    private MetricCollector<double> Double(IMeterFactory meters, string name) => Add(new MetricCollector<double>(meters, "Realtime.Server", name));

    private T Add<T>(T collector)
        where T : IDisposable
    {
        _collectors.Add(collector);
        return collector;
    }
}
