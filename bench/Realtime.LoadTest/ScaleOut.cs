using System.Diagnostics;

namespace Realtime.LoadTest;

/// <summary>
/// The cross-node scenarios: two server processes of one system on one redis-server (each system with its own Redis backplane),
/// members split over both nodes, publishers on both. Besides the figures of the one-node scenarios: each node's and Redis's CPU
/// per million deliveries, Redis commands and publishes per broadcast (from <c>INFO commandstats</c>), and deliveries that
/// arrived out of their publisher's order.
/// </summary>
internal static partial class ScaleOut
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Two nodes and their Redis, fresh for each scenario.</summary>
    internal sealed class Cluster(ServerProcess redis, ServerProcess a, ServerProcess b) : IAsyncDisposable
    {
        public ServerProcess Redis { get; } = redis;

        public ServerProcess A { get; } = a;

        public ServerProcess B { get; } = b;

        public int Port(int i) => i % 2 == 0 ? A.Port : B.Port;

        public static async Task<Cluster> StartAsync(string system, string root, string configuration)
        {
            ServerProcess redis = await ServerProcess.StartRedisAsync();
            var environment = new Dictionary<string, string> { ["BENCH_REDIS"] = $"127.0.0.1:{redis.Port}" };
            ServerProcess a = await ServerProcess.StartAsync(system, root, configuration, environment);
            ServerProcess b = await ServerProcess.StartAsync(system, root, configuration, environment);
            return new Cluster(redis, a, b);
        }

        public async ValueTask DisposeAsync()
        {
            await A.DisposeAsync();
            await B.DisposeAsync();
            await Redis.DisposeAsync();
        }
    }

    /// <summary>One room of <see cref="LoadSettings.Subscribers"/> members, half on each node, a publisher on each node with half the window.</summary>
    public static async Task<List<Metric>> FanoutMaxRateAsync(Wire wire, Cluster cluster, LoadSettings settings)
    {
        const string Scenario = "cross-node fan-out, max rate";
        const int MaxMessages = 200_000;
        LoadClient[] subscribers = await ConnectAsync(wire, cluster, settings.Subscribers, _ => "max");
        LoadClient[] publishers = await ConnectAsync(wire, cluster, 2, _ => "max");
        var order = new Order(subscribers.Length, 2);
        MaxRate[] rates = [new(MaxMessages, subscribers.Length, settings.Window / 2), new(MaxMessages, subscribers.Length, settings.Window / 2)];
        var phase = new Phase(settings);
        for (int s = 0; s < subscribers.Length; s++)
        {
            int subscriber = s;
            subscribers[s].OnPayload = p =>
            {
                order.Arrived(subscriber, p);
                rates[p.Client].Arrived(p.Sequence, phase.Measuring);
            };
        }

        Task[] publishing = [.. Enumerable.Range(0, 2).Select(k => Task.Run(() => rates[k].PublishAsync(() => phase.Measuring, () => phase.Over,
            seq => publishers[k].SendAsync(wire.Broadcast(Payload.Create(k, seq))))))];
        Usage usage = await phase.RunAsync(cluster);
        await Task.WhenAll(publishing);
        long lost = await DrainAsync(order, (rates[0].Sent + rates[1].Sent) * subscribers.Length);
        await DisposeAsync([.. publishers, .. subscribers]);
        long measured = rates[0].Measured + rates[1].Measured;
        long broadcastsMeasured = rates[0].SentMeasured + rates[1].SentMeasured;
        Array.ForEach(rates, r => r.Dispose());
        return
        [
            new(Scenario, $"deliveries/s ({settings.Subscribers} members on 2 nodes, window {settings.Window})", measured / settings.Duration.TotalSeconds, true),
            .. usage.Figures(Scenario, measured, broadcastsMeasured),
            new(Scenario, "lost deliveries", lost, false),
            new(Scenario, "reordered deliveries", order.Reordered, false),
        ];
    }

    /// <summary>The same room at a fixed rate, split between the two publishers: delivery latency.</summary>
    public static async Task<List<Metric>> FanoutFixedRateAsync(Wire wire, Cluster cluster, LoadSettings settings)
    {
        const string Scenario = "cross-node fan-out, fixed rate";
        LoadClient[] subscribers = await ConnectAsync(wire, cluster, settings.Subscribers, _ => "fixed");
        LoadClient[] publishers = await ConnectAsync(wire, cluster, 2, _ => "fixed");
        var order = new Order(subscribers.Length, 2);
        var latency = new FixedRate(subscribers.Length);
        for (int s = 0; s < subscribers.Length; s++)
        {
            int subscriber = s;
            subscribers[s].OnPayload = p =>
            {
                order.Arrived(subscriber, p);
                latency.Arrived(subscriber, p);
            };
        }

        var phase = new Phase(settings);
        Task<long> publishing = Task.Run(() => latency.PublishAsync(settings.FixedRate, () => phase.Measuring, () => phase.Over,
            seq => publishers[seq % 2].SendAsync(wire.Broadcast(Payload.Create((int)(seq % 2), seq)))));
        await phase.RunAsync(cluster);
        long sent = await publishing;
        long lost = await DrainAsync(order, sent * subscribers.Length);
        await DisposeAsync([.. publishers, .. subscribers]);
        Func<double, double> percentile = latency.Percentiles();
        return
        [
            new(Scenario, $"p50 µs ({settings.FixedRate} msg/s × {settings.Subscribers}, 2 nodes)", percentile(0.50), false),
            new(Scenario, "p99 µs", percentile(0.99), false),
            new(Scenario, "lost deliveries", lost, false),
            new(Scenario, "reordered deliveries", order.Reordered, false),
        ];
    }

    /// <summary>
    /// Many small rooms: <see cref="Rooms"/> rooms of four members, two on each node; each room's first member publishes (half of
    /// them on each node), round robin over the rooms within one bounded window.
    /// </summary>
    public static async Task<List<Metric>> SmallRoomsAsync(Wire wire, Cluster cluster, LoadSettings settings)
    {
        const string Scenario = "cross-node, many small rooms";
        const int MaxMessages = 400_000;
        int rooms = settings.Subscribers / 2;
        LoadClient[] members = await ConnectAsync(wire, cluster, rooms * 4, i => "small" + (i / 4)); // i % 2: alternate nodes
        await JoinedAsync(wire, members, rooms);
        int window = settings.Window * 4;
        using var rate = new MaxRate(MaxMessages, 3, window);
        var phase = new Phase(settings);
        foreach (LoadClient member in members)
        {
            member.OnPayload = p =>
            {
                if (p.Sequence >= 0) // not a late readiness broadcast
                {
                    rate.Arrived(p.Sequence, phase.Measuring);
                }
            };
        }

        Task publishing = Task.Run(() => rate.PublishAsync(() => phase.Measuring, () => phase.Over, seq =>
        {
            int room = (int)(seq % rooms);
            _ = members[room * 4 + (room % 2)].SendAsync(wire.Broadcast(Payload.Create(room, seq)));
            return Task.CompletedTask; // the window, not each send, paces the publisher
        }));
        Usage usage = await phase.RunAsync(cluster);
        await publishing;
        var clock = Stopwatch.StartNew();
        while (rate.Delivered < rate.Sent * 3 && clock.Elapsed < ReplyTimeout)
        {
            await Task.Delay(20); // sleep-ok: a bounded drain; deliveries have no completion signal of their own
        }

        long lost = rate.Sent * 3 - rate.Delivered;
        await DisposeAsync(members);
        long measured = rate.Measured;
        long broadcastsMeasured = rate.SentMeasured;
        return
        [
            new(Scenario, $"deliveries/s ({rooms} rooms × 4 on 2 nodes, window {window})", measured / settings.Duration.TotalSeconds, true),
            .. usage.Figures(Scenario, measured, broadcastsMeasured),
            new(Scenario, "lost deliveries", lost, false),
        ];
    }

    /// <summary>
    /// Waits until every room's publisher has reached its three other members: SignalR adds a connection to its group after its
    /// handshake, so a broadcast sent at once can miss a member that has connected (a first run lost 114 deliveries that way).
    /// The steady state is measured; joining is the join storm's.
    /// </summary>
    private static async Task JoinedAsync(Wire wire, LoadClient[] members, int rooms)
    {
        var reached = new HashSet<int>[rooms];
        for (int r = 0; r < rooms; r++)
        {
            reached[r] = [];
        }

        for (int i = 0; i < members.Length; i++)
        {
            int member = i;
            members[i].OnPayload = p =>
            {
                lock (reached)
                {
                    reached[p.Client].Add(member);
                }
            };
        }

        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            int[] waiting;
            lock (reached)
            {
                waiting = [.. Enumerable.Range(0, rooms).Where(r => reached[r].Count < 3)];
            }

            if (waiting.Length == 0)
            {
                return;
            }

            await Task.WhenAll(waiting.Select(r => members[r * 4 + (r % 2)].SendAsync(wire.Broadcast(Payload.Create(r, -1)))));
            await Task.Delay(200); // sleep-ok: a bounded retry of the readiness broadcasts; their arrival is checked above
        }

        throw new TimeoutException("The members of some rooms were not reachable within 30 s.");
    }

    /// <summary>A join storm: connections opened as fast as 64 at a time allow, alternating nodes, over 100 rooms.</summary>
    public static async Task<List<Metric>> JoinStormAsync(Wire wire, Cluster cluster, LoadSettings settings)
    {
        const string Scenario = "cross-node join storm";
        int count = settings.Subscribers * 2;
        await DisposeAsync(await ConnectAsync(wire, cluster, Math.Max(2, count / 10), i => "warm" + (i % 100))); // the connect path compiled
        var joins = new long[count];
        var clock = Stopwatch.StartNew();
        LoadClient[] clients = await ConnectAsync(wire, cluster, count, i => "storm" + (i % 100), joins);
        double perSecond = count / clock.Elapsed.TotalSeconds;
        await DisposeAsync(clients);
        Array.Sort(joins);
        return
        [
            new(Scenario, $"connections joined/s ({count} on 2 nodes)", perSecond, true),
            new(Scenario, "p50 join µs", joins[(int)(0.50 * (count - 1))] * 1_000_000.0 / Stopwatch.Frequency, false),
            new(Scenario, "p99 join µs", joins[(int)(0.99 * (count - 1))] * 1_000_000.0 / Stopwatch.Frequency, false),
        ];
    }

    /// <summary>Connects <paramref name="count"/> clients, 64 at a time, client i to node i % 2; each one's connect-to-joined time in <paramref name="joins"/>.</summary>
    private static async Task<LoadClient[]> ConnectAsync(Wire wire, Cluster cluster, int count, Func<int, string> room, long[]? joins = null)
    {
        using var parallel = new SemaphoreSlim(64);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        return await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await parallel.WaitAsync(timeout.Token);
            try
            {
                long start = Stopwatch.GetTimestamp();
                LoadClient client = await LoadClient.ConnectAsync(wire, cluster.Port(i), room(i), timeout.Token);
                if (joins is not null)
                {
                    joins[i] = Stopwatch.GetTimestamp() - start;
                }

                return client;
            }
            finally
            {
                parallel.Release();
            }
        }));
    }

    private static async Task DisposeAsync(IEnumerable<LoadClient> clients) => await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));

    /// <summary>Waits (bounded) until every expected delivery arrived; returns how many did not.</summary>
    private static async Task<long> DrainAsync(Order order, long expected)
    {
        var clock = Stopwatch.StartNew();
        while (order.Delivered < expected && clock.Elapsed < ReplyTimeout)
        {
            await Task.Delay(20); // sleep-ok: a bounded drain; deliveries have no completion signal of their own
        }

        return expected - order.Delivered;
    }
}
