using System.Diagnostics.Metrics;

namespace Realtime.Server.StackExchangeRedis;

/// <summary>The backplane's instruments, on the server's meter <c>Realtime.Server</c>. No tag carries a room, node or connection id.</summary>
internal sealed class RedisBackplaneMetrics
{
    private readonly Counter<long> _published;
    private readonly Counter<long> _publishFailures;
    private readonly Counter<long> _received;
    private readonly UpDownCounter<long> _subscriptions;
    private readonly Counter<long> _repaired;
    private readonly Counter<long> _gaps;
    private readonly Histogram<double> _publishDuration;

    public RedisBackplaneMetrics(IMeterFactory? meterFactory, Func<long> nodes)
    {
        Meter meter = meterFactory?.Create("Realtime.Server") ?? new Meter("Realtime.Server");
        _published = meter.CreateCounter<long>("realtime.server.backplane.published", "{broadcast}", "Room broadcasts this node published to Redis.");
        _publishFailures = meter.CreateCounter<long>("realtime.server.backplane.publish_failures", "{broadcast}",
            "Room broadcasts this node could not publish (Redis unreachable, slow or refusing); nothing of them was delivered.");
        _received = meter.CreateCounter<long>("realtime.server.backplane.received", "{broadcast}", "Room broadcasts this node received from Redis and delivered to its members.");
        _subscriptions = meter.CreateUpDownCounter<long>("realtime.server.backplane.subscriptions", "{room}", "Rooms whose channel this node is subscribed to (rooms with members here).");
        _repaired = meter.CreateCounter<long>("realtime.server.backplane.repaired", "{broadcast}",
            "Room broadcasts this node missed on its link to Redis and delivered, in order, from the room's log.");
        _gaps = meter.CreateCounter<long>("realtime.server.backplane.gaps", "{gap}",
            "Gaps this node reported to a room's members (realtime.gap): broadcasts missed that the room's log no longer held.");
        _publishDuration = meter.CreateHistogram("realtime.server.backplane.publish.duration", "s",
            "From a broadcast's publish call to Redis's reply, for the broadcasts published (waiting for the link included).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        meter.CreateObservableGauge("realtime.server.backplane.nodes", nodes, "{node}", "Live nodes in the cluster, as of this node's last heartbeat.");
    }

    /// <summary>Whether the publish duration is listened to: only then is the clock read for it.</summary>
    public bool MeasuresPublishDuration => _publishDuration.Enabled;

    /// <summary>A broadcast was published; <paramref name="called"/> is when its publish was called (a <see cref="System.Diagnostics.Stopwatch"/> timestamp, 0: not measured).</summary>
    public void Published(long called)
    {
        _published.Add(1);
        if (called != 0)
        {
            _publishDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(called).TotalSeconds);
        }
    }

    public void PublishFailed() => _publishFailures.Add(1);

    public void Received() => _received.Add(1);

    public void Repaired() => _repaired.Add(1);

    public void GapReported() => _gaps.Add(1);

    public void Subscribed() => _subscriptions.Add(1);

    public void Unsubscribed() => _subscriptions.Add(-1);
}
