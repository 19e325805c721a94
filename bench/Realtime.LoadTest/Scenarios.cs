using System.Diagnostics;

namespace Realtime.LoadTest;

/// <summary>How big and how long each scenario is. <see cref="Full"/> is the comparison; <see cref="Smoke"/> is CI's check.</summary>
internal sealed record LoadSettings(int EchoClients, int InFlight, int Subscribers, int FixedRate, int Window, int IdleConnections, TimeSpan Warmup, TimeSpan Duration, TimeSpan IdleHold)
{
    public static LoadSettings Full { get; } = new(50, 32, 1000, 50, 16, 10_000, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(6));

    public static LoadSettings Smoke { get; } = new(10, 8, 100, 20, 8, 200, TimeSpan.FromSeconds(0.3), TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(1));
}

/// <summary>One figure of one scenario.</summary>
internal sealed record Metric(string Scenario, string Name, double Value, bool HigherIsBetter, string Format = "N0")
{
    /// <summary>The better of one figure in two runs; lost deliveries add up instead (a loss in any run counts).</summary>
    public static Metric Best(Metric a, Metric b)
        => a.Name is "lost deliveries" or "reordered deliveries" ? a with { Value = a.Value + b.Value }
            : (a.HigherIsBetter ? b.Value > a.Value : b.Value < a.Value) ? b : a;
}

/// <summary>The scenarios. Each is bounded in count and time, on loopback only, and reports the server's CPU seconds.</summary>
internal static class Scenarios
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(10);

    /// <summary>50 clients, one echo in flight each: round trips/s and latency percentiles.</summary>
    public static async Task<List<Metric>> EchoLatencyAsync(Wire wire, ServerProcess server, LoadSettings settings)
    {
        const string Scenario = "echo latency";
        LoadClient[] clients = await ConnectAsync(wire, server.Port, settings.EchoClients, i => "echo" + i);
        var samples = new List<long>[clients.Length];
        var phase = new Phase(settings);
        Task[] loops = [.. clients.Select((client, i) => Task.Run(async () =>
        {
            samples[i] = new List<long>(64 * 1024);
            TaskCompletionSource<Payload>? pending = null;
            client.OnPayload = p => Volatile.Read(ref pending)?.TrySetResult(p);
            for (long seq = 0; !phase.Over; seq++)
            {
                var reply = new TaskCompletionSource<Payload>(TaskCreationOptions.RunContinuationsAsynchronously);
                Volatile.Write(ref pending, reply);
                bool measured = phase.Measuring;
                long start = Stopwatch.GetTimestamp();
                await client.SendAsync(wire.Echo(Payload.Create(i, seq)));
                await reply.Task.WaitAsync(ReplyTimeout);
                if (measured && phase.Measuring)
                {
                    samples[i].Add(Stopwatch.GetTimestamp() - start);
                }
            }
        }))];
        TimeSpan cpu = await phase.RunAsync(server);
        await Task.WhenAll(loops);
        await DisposeAsync(clients);

        long[] all = [.. samples.SelectMany(s => s).Order()];
        return
        [
            new(Scenario, "round trips/s", all.Length / settings.Duration.TotalSeconds, true),
            new(Scenario, "p50 µs", Micros(all, 0.50), false),
            new(Scenario, "p99 µs", Micros(all, 0.99), false),
            new(Scenario, "p99.9 µs", Micros(all, 0.999), false),
            new(Scenario, "server CPU s", cpu.TotalSeconds, false, "N2"),
            new(Scenario, "server CPU µs per round trip", PerUnit(cpu, all.Length), false, "N2"),
        ];
    }

    /// <summary>50 clients with 32 echoes in flight each: round trips/s.</summary>
    public static async Task<List<Metric>> EchoThroughputAsync(Wire wire, ServerProcess server, LoadSettings settings)
    {
        const string Scenario = "echo throughput";
        LoadClient[] clients = await ConnectAsync(wire, server.Port, settings.EchoClients, i => "echo" + i);
        long measuredTrips = 0;
        var phase = new Phase(settings);
        Task[] loops = [.. clients.Select((client, i) => Task.Run(async () =>
        {
            using var window = new SemaphoreSlim(settings.InFlight, settings.InFlight);
            client.OnPayload = _ =>
            {
                if (phase.Measuring)
                {
                    Interlocked.Increment(ref measuredTrips);
                }

                window.Release();
            };
            for (long seq = 0; !phase.Over; seq++)
            {
                if (!await window.WaitAsync(ReplyTimeout))
                {
                    throw new TimeoutException("No echo came back within " + ReplyTimeout);
                }

                await client.SendAsync(wire.Echo(Payload.Create(i, seq)));
            }

            for (int k = 0; k < settings.InFlight; k++)
            {
                await window.WaitAsync(ReplyTimeout); // drain what is in flight
            }
        }))];
        TimeSpan cpu = await phase.RunAsync(server);
        await Task.WhenAll(loops);
        await DisposeAsync(clients);
        return
        [
            new(Scenario, "round trips/s", measuredTrips / settings.Duration.TotalSeconds, true),
            new(Scenario, "server CPU s", cpu.TotalSeconds, false, "N2"),
            new(Scenario, "server CPU µs per round trip", PerUnit(cpu, measuredTrips), false, "N2"),
        ];
    }

    /// <summary>One publisher at a fixed rate to a room of subscribers: delivery latency and lost deliveries.</summary>
    public static async Task<List<Metric>> FanoutFixedRateAsync(Wire wire, ServerProcess server, LoadSettings settings)
    {
        const string Scenario = "fan-out, fixed rate";
        (LoadClient publisher, LoadClient[] subscribers) = await ConnectRoomAsync(wire, server, settings, "fixed");
        var latency = new FixedRate(subscribers.Length);
        long received = 0;
        for (int i = 0; i < subscribers.Length; i++)
        {
            int subscriber = i;
            subscribers[i].OnPayload = p =>
            {
                Interlocked.Increment(ref received);
                latency.Arrived(subscriber, p);
            };
        }

        var phase = new Phase(settings);
        Task<long> publishing = Task.Run(() => latency.PublishAsync(settings.FixedRate, () => phase.Measuring, () => phase.Over,
            seq => publisher.SendAsync(wire.Broadcast(Payload.Create(-1, seq)))));
        TimeSpan cpu = await phase.RunAsync(server);
        long sent = await publishing;
        long lost = await DrainAsync(() => Interlocked.Read(ref received), sent * subscribers.Length);
        await DisposeAsync([publisher, .. subscribers]);

        Func<double, double> percentile = latency.Percentiles();
        return
        [
            new(Scenario, $"p50 µs ({settings.FixedRate} msg/s × {settings.Subscribers})", percentile(0.50), false),
            new(Scenario, "p99 µs", percentile(0.99), false),
            new(Scenario, "lost deliveries", lost, false),
            new(Scenario, "server CPU s", cpu.TotalSeconds, false, "N2"),
        ];
    }

    /// <summary>One publisher as fast as a bounded window of unfinished broadcasts allows: deliveries/s, none lost.</summary>
    public static async Task<List<Metric>> FanoutMaxRateAsync(Wire wire, ServerProcess server, LoadSettings settings)
    {
        const string Scenario = "fan-out, max rate";
        const int MaxMessages = 200_000;
        (LoadClient publisher, LoadClient[] subscribers) = await ConnectRoomAsync(wire, server, settings, "max");
        using var rate = new MaxRate(MaxMessages, subscribers.Length, settings.Window);
        var phase = new Phase(settings);
        foreach (LoadClient subscriber in subscribers)
        {
            subscriber.OnPayload = p => rate.Arrived(p.Sequence, phase.Measuring);
        }

        Task publishing = Task.Run(() => rate.PublishAsync(() => phase.Measuring, () => phase.Over, seq => publisher.SendAsync(wire.Broadcast(Payload.Create(-1, seq)))));
        TimeSpan cpu = await phase.RunAsync(server);
        await publishing;
        long lost = await DrainAsync(() => rate.Delivered, rate.Sent * subscribers.Length);
        await DisposeAsync([publisher, .. subscribers]);
        long measuredDeliveries = rate.Measured;
        return
        [
            new(Scenario, $"deliveries/s (window {settings.Window})", measuredDeliveries / settings.Duration.TotalSeconds, true),
            new(Scenario, "lost deliveries", lost, false),
            new(Scenario, "server CPU s", cpu.TotalSeconds, false, "N2"),
            new(Scenario, "server CPU µs per delivery", PerUnit(cpu, measuredDeliveries), false, "N2"),
        ];
    }

    /// <summary>Server CPU per unit of work, in µs: the fair comparison when the faster system did more work in the same time.</summary>
    private static double PerUnit(TimeSpan cpu, long units) => units == 0 ? double.NaN : cpu.TotalMicroseconds / units;

    /// <summary>Many idle connections held while heartbeats run: connections opened per second and server memory per connection.</summary>
    public static async Task<List<Metric>> IdleConnectionsAsync(Wire wire, ServerProcess server, LoadSettings settings)
    {
        const string Scenario = "idle connections";

        // Warm-up, as in the other scenarios: rounds of a twentieth of the connections opened and closed for the
        // warm-up time, so that the rate measures a server whose connection path is compiled, not its JIT.
        var warmup = Stopwatch.StartNew();
        do
        {
            await DisposeAsync(await ConnectAsync(wire, server.Port, Math.Max(1, settings.IdleConnections / 20), i => "warm" + (i % 100)));
        }
        while (warmup.Elapsed < settings.Warmup);

        long before = server.ResidentBytes;
        TimeSpan cpuBefore = server.CpuTime;
        var clock = Stopwatch.StartNew();
        LoadClient[] clients = await ConnectAsync(wire, server.Port, settings.IdleConnections, i => "idle" + (i % 100));
        double perSecond = clients.Length / clock.Elapsed.TotalSeconds;
        await Task.Delay(settings.IdleHold); // hold them idle through at least one heartbeat round
        long after = server.ResidentBytes;
        TimeSpan cpu = server.CpuTime - cpuBefore;
        await DisposeAsync(clients);
        return
        [
            new(Scenario, $"connections opened/s ({settings.IdleConnections})", perSecond, true),
            new(Scenario, "server RSS KB per connection", (after - before) / 1024.0 / clients.Length, false, "N1"),
            new(Scenario, "server CPU s (connect + hold)", cpu.TotalSeconds, false, "N2"),
        ];
    }

    private static async Task<(LoadClient Publisher, LoadClient[] Subscribers)> ConnectRoomAsync(Wire wire, ServerProcess server, LoadSettings settings, string room)
    {
        LoadClient[] subscribers = await ConnectAsync(wire, server.Port, settings.Subscribers, _ => room);
        LoadClient publisher = await LoadClient.ConnectAsync(wire, server.Port, room, CancellationToken.None);
        return (publisher, subscribers);
    }

    private static async Task<LoadClient[]> ConnectAsync(Wire wire, int port, int count, Func<int, string> room)
    {
        using var parallel = new SemaphoreSlim(64);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        return await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await parallel.WaitAsync(timeout.Token);
            try
            {
                return await LoadClient.ConnectAsync(wire, port, room(i), timeout.Token);
            }
            finally
            {
                parallel.Release();
            }
        }));
    }

    private static async Task DisposeAsync(IEnumerable<LoadClient> clients) => await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));

    /// <summary>Waits (bounded) until every expected delivery arrived; returns how many did not.</summary>
    private static async Task<long> DrainAsync(Func<long> received, long expected)
    {
        var clock = Stopwatch.StartNew();
        while (received() < expected && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }

        return expected - received();
    }

    private static double Micros(long[] sortedTimestampDeltas, double quantile)
        => sortedTimestampDeltas.Length == 0 ? double.NaN : sortedTimestampDeltas[(int)(quantile * (sortedTimestampDeltas.Length - 1))] * 1_000_000.0 / Stopwatch.Frequency;

    /// <summary>Warm-up, then the measured window, then over; the server's CPU time over the measured window.</summary>
    private sealed class Phase(LoadSettings settings)
    {
        private volatile int _phase;

        public bool Measuring => _phase == 1;

        public bool Over => _phase == 2;

        public async Task<TimeSpan> RunAsync(ServerProcess server)
        {
            await Task.Delay(settings.Warmup);
            TimeSpan before = server.CpuTime;
            _phase = 1;
            await Task.Delay(settings.Duration);
            _phase = 2;
            return server.CpuTime - before;
        }
    }
}
