using System.Diagnostics.Metrics;
using Microsoft.Extensions.Time.Testing;
using Realtime.Server.Internal.StatusPage;

namespace Realtime.Server.Tests.Units;

/// <summary>The status page's listener on the server's instruments, with instruments of its own making and a fake clock.</summary>
public class StatusMonitorTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public void Refusals_and_disconnects_are_kept_newest_first_with_counts_by_reason_and_another_apps_meter_is_ignored()
    {
        using ServiceProvider services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using ServiceProvider other = new ServiceCollection().AddMetrics().BuildServiceProvider();
        IMeterFactory meters = services.GetRequiredService<IMeterFactory>();
        Meter meter = meters.Create("Realtime.Server");
        Counter<long> refusals = meter.CreateCounter<long>(StatusMonitor.RefusalsName);
        Counter<long> disconnects = meter.CreateCounter<long>(StatusMonitor.DisconnectsName);
        Counter<long> otherRefusals = other.GetRequiredService<IMeterFactory>().Create("Realtime.Server").CreateCounter<long>(StatusMonitor.RefusalsName);
        var time = new FakeTimeProvider(Start);
        using var monitor = new StatusMonitor(meters, time);

        refusals.Add(1, new KeyValuePair<string, object?>("realtime.refusal.reason", "origin"));
        time.Advance(TimeSpan.FromSeconds(1));
        refusals.Add(1, new KeyValuePair<string, object?>("realtime.refusal.reason", "connection_limit"));
        refusals.Add(1, new KeyValuePair<string, object?>("realtime.refusal.reason", "origin"));
        otherRefusals.Add(1, new KeyValuePair<string, object?>("realtime.refusal.reason", "other_app"));
        disconnects.Add(1, new KeyValuePair<string, object?>("realtime.disconnect.reason", "ping_timeout"));

        Assert.Equal(
            [(Start.AddSeconds(1), "origin"), (Start.AddSeconds(1), "connection_limit"), (Start, "origin")],
            monitor.Refusals.Recent());
        Assert.Equal([new("origin", 2), new("connection_limit", 1)], monitor.Refusals.Counts());
        Assert.Equal([(Start.AddSeconds(1), "ping_timeout")], monitor.Disconnects.Recent());

        for (int i = 0; i < RecentEvents.Capacity + 5; i++)
        {
            disconnects.Add(1, new KeyValuePair<string, object?>("realtime.disconnect.reason", "client_disconnect"));
        }

        Assert.Equal(RecentEvents.Capacity, monitor.Disconnects.Recent().Length);
        Assert.Equal(RecentEvents.Capacity + 5, monitor.Disconnects.Counts()[0].Value);
    }

    [Fact]
    public void Messages_are_counted_only_from_a_watch_until_the_watch_window_after_the_last_one_a_sample_a_second()
    {
        using ServiceProvider services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        IMeterFactory meters = services.GetRequiredService<IMeterFactory>();
        Meter meter = meters.Create("Realtime.Server");
        var time = new FakeTimeProvider(Start);
        using var monitor = new StatusMonitor(meters, time);
        Counter<long> received = meter.CreateCounter<long>(StatusMonitor.ReceivedName); // published after the monitor started, too
        Counter<long> sent = meter.CreateCounter<long>(StatusMonitor.SentName);

        // Not watched: not counted (the first sample below is 3, not 8). Whether the instrument is Enabled is not asserted: any
        // other listener in the process (an OpenTelemetry provider of another test's host) enables it.
        received.Add(5);
        Assert.False(monitor.Watching);

        monitor.Watch();
        Assert.True(received.Enabled);
        Assert.Empty(monitor.History());
        received.Add(3);
        sent.Add(7);
        time.Advance(TimeSpan.FromSeconds(1));
        received.Add(1);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal([(3d, 7d), (1d, 0d)], monitor.History());

        time.Advance(StatusMonitor.WatchWindow);
        Assert.False(monitor.Watching);
        received.Add(100); // not counted: the next watch's first sample is 0

        monitor.Watch();
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal([(0d, 0d)], monitor.History());
    }
}
