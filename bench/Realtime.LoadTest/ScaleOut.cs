using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Realtime.LoadTest;

/// <summary>
/// The cross-node scenarios: two server processes of one system on one redis-server (each system with its own Redis backplane),
/// members split over both nodes, publishers on both. Besides the figures of the one-node scenarios: each node's and Redis's CPU
/// per million deliveries, Redis commands and publishes per broadcast (from <c>INFO commandstats</c>), and deliveries that
/// arrived out of their publisher's order.
/// </summary>
internal static class ScaleOut
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
        int[][] remaining = [new int[MaxMessages], new int[MaxMessages]];
        Array.ForEach(remaining, r => Array.Fill(r, subscribers.Length));
        SemaphoreSlim[] windows = [new(settings.Window / 2), new(settings.Window / 2)];
        var phase = new Phase(settings);
        long measured = 0;
        for (int s = 0; s < subscribers.Length; s++)
        {
            int subscriber = s;
            subscribers[s].OnPayload = p =>
            {
                order.Arrived(subscriber, p);
                if (phase.Measuring)
                {
                    Interlocked.Increment(ref measured);
                }

                if (Interlocked.Decrement(ref remaining[p.Client][p.Sequence]) == 0)
                {
                    windows[p.Client].Release();
                }
            };
        }

        long[] sent = new long[2];
        long broadcastsMeasured = 0;
        Task[] publishing = [.. Enumerable.Range(0, 2).Select(k => Task.Run(async () =>
        {
            for (long seq = 0; !phase.Over && seq < MaxMessages; seq++)
            {
                if (!await windows[k].WaitAsync(ReplyTimeout))
                {
                    throw new TimeoutException("A broadcast did not reach every member within " + ReplyTimeout);
                }

                await publishers[k].SendAsync(wire.Broadcast(Payload.Create(k, seq)));
                sent[k]++;
                if (phase.Measuring)
                {
                    Interlocked.Increment(ref broadcastsMeasured);
                }
            }
        }))];
        Usage usage = await phase.RunAsync(cluster);
        await Task.WhenAll(publishing);
        long lost = await DrainAsync(order, (sent[0] + sent[1]) * subscribers.Length);
        await DisposeAsync([.. publishers, .. subscribers]);
        Array.ForEach(windows, w => w.Dispose());
        return
        [
            new(Scenario, $"deliveries/s ({settings.Subscribers} members on 2 nodes, window {settings.Window})", measured / settings.Duration.TotalSeconds, true),
            .. usage.Figures(Scenario, measured, Interlocked.Read(ref broadcastsMeasured)),
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
        var samples = new List<long>[subscribers.Length];
        long firstMeasured = long.MaxValue;
        for (int s = 0; s < subscribers.Length; s++)
        {
            int subscriber = s;
            List<long> mine = samples[s] = new List<long>(4096);
            subscribers[s].OnPayload = p =>
            {
                order.Arrived(subscriber, p);
                if (p.Sequence >= Volatile.Read(ref firstMeasured))
                {
                    mine.Add(p.Age.Ticks);
                }
            };
        }

        var phase = new Phase(settings);
        long sent = 0;
        Task publishing = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / settings.FixedRate));
            for (long seq = 0; !phase.Over && await timer.WaitForNextTickAsync(); seq++)
            {
                if (phase.Measuring && firstMeasured == long.MaxValue)
                {
                    Volatile.Write(ref firstMeasured, seq);
                }

                await publishers[seq % 2].SendAsync(wire.Broadcast(Payload.Create((int)(seq % 2), seq)));
                sent++;
            }
        });
        Usage usage = await phase.RunAsync(cluster);
        await publishing;
        long lost = await DrainAsync(order, sent * subscribers.Length);
        await DisposeAsync([.. publishers, .. subscribers]);
        long[] all = [.. samples.SelectMany(s => s).Order()];
        return
        [
            new(Scenario, $"p50 µs ({settings.FixedRate} msg/s × {settings.Subscribers}, 2 nodes)", all.Length == 0 ? double.NaN : all[(int)(0.50 * (all.Length - 1))] / 10.0, false),
            new(Scenario, "p99 µs", all.Length == 0 ? double.NaN : all[(int)(0.99 * (all.Length - 1))] / 10.0, false),
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
        int[] remaining = new int[MaxMessages];
        Array.Fill(remaining, 3);
        int window = settings.Window * 4;
        using var windowGate = new SemaphoreSlim(window);
        var phase = new Phase(settings);
        long measured = 0;
        long delivered = 0;
        foreach (LoadClient member in members)
        {
            member.OnPayload = p =>
            {
                if (p.Sequence < 0)
                {
                    return; // a late readiness broadcast
                }

                Interlocked.Increment(ref delivered);
                if (phase.Measuring)
                {
                    Interlocked.Increment(ref measured);
                }

                if (Interlocked.Decrement(ref remaining[p.Sequence]) == 0)
                {
                    windowGate.Release();
                }
            };
        }

        long sent = 0;
        long broadcastsMeasured = 0;
        Task publishing = Task.Run(async () =>
        {
            for (long seq = 0; !phase.Over && seq < MaxMessages; seq++)
            {
                if (!await windowGate.WaitAsync(ReplyTimeout))
                {
                    throw new TimeoutException("A broadcast did not reach its room within " + ReplyTimeout);
                }

                int room = (int)(seq % rooms);
                _ = members[room * 4 + (room % 2)].SendAsync(wire.Broadcast(Payload.Create(room, seq)));
                sent++;
                if (phase.Measuring)
                {
                    broadcastsMeasured++;
                }
            }
        });
        Usage usage = await phase.RunAsync(cluster);
        await publishing;
        var clock = Stopwatch.StartNew();
        while (Interlocked.Read(ref delivered) < sent * 3 && clock.Elapsed < ReplyTimeout)
        {
            await Task.Delay(20); // sleep-ok: a bounded drain; deliveries have no completion signal of their own
        }

        long lost = sent * 3 - Interlocked.Read(ref delivered);
        await DisposeAsync(members);
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

    /// <summary>Per member and publisher, the last sequence number seen: a delivery at or below it arrived out of order.</summary>
    private sealed class Order(int members, int publishers)
    {
        private readonly long[] _last = CreateLast(members * publishers);
        private long _delivered;
        private long _reordered;

        public long Delivered => Interlocked.Read(ref _delivered);

        public long Reordered => Interlocked.Read(ref _reordered);

        public void Arrived(int member, Payload payload)
        {
            Interlocked.Increment(ref _delivered);
            ref long last = ref _last[member * publishers + payload.Client];
            if (payload.Sequence <= last)
            {
                Interlocked.Increment(ref _reordered);
            }

            last = payload.Sequence; // one receive loop per member: no race on its own slots
        }

        private static long[] CreateLast(int length)
        {
            long[] last = new long[length];
            Array.Fill(last, -1);
            return last;
        }
    }

    /// <summary>CPU of each node and of Redis over the measured window, and Redis's command counts.</summary>
    private sealed record Usage(TimeSpan A, TimeSpan B, TimeSpan Redis, long Commands, long Publishes)
    {
        public IEnumerable<Metric> Figures(string scenario, long deliveries, long broadcasts)
        {
            double millions = deliveries / 1_000_000.0;
            return
            [
                new(scenario, "node A CPU s per million deliveries", A.TotalSeconds / millions, false, "N2"),
                new(scenario, "node B CPU s per million deliveries", B.TotalSeconds / millions, false, "N2"),
                new(scenario, "Redis CPU s per million deliveries", Redis.TotalSeconds / millions, false, "N2"),
                new(scenario, "Redis commands per broadcast", broadcasts == 0 ? double.NaN : (double)Commands / broadcasts, false, "N2"),
                new(scenario, "Redis PUBLISH per broadcast", broadcasts == 0 ? double.NaN : (double)Publishes / broadcasts, false, "N2"),
            ];
        }
    }

    /// <summary>Warm-up, then the measured window, then over.</summary>
    private sealed class Phase(LoadSettings settings)
    {
        private volatile int _phase;

        public bool Measuring => _phase == 1;

        public bool Over => _phase == 2;

        public async Task<Usage> RunAsync(Cluster cluster)
        {
            await Task.Delay(settings.Warmup); // sleep-ok: the warm-up is a span of time
            (TimeSpan a, TimeSpan b, TimeSpan redis) = (cluster.A.CpuTime, cluster.B.CpuTime, cluster.Redis.CpuTime);
            (long commands, long publishes) = await CommandStatsAsync(cluster.Redis.Port);
            _phase = 1;
            await Task.Delay(settings.Duration); // sleep-ok: the measured window is a span of time
            _phase = 2;
            (long commandsAfter, long publishesAfter) = await CommandStatsAsync(cluster.Redis.Port);
            return new Usage(cluster.A.CpuTime - a, cluster.B.CpuTime - b, cluster.Redis.CpuTime - redis,
                commandsAfter - commands, publishesAfter - publishes);
        }
    }

    /// <summary>Every command Redis ran (those inside scripts included), and its PUBLISHes, from <c>INFO commandstats</c>.</summary>
    private static async Task<(long Commands, long Publishes)> CommandStatsAsync(int port)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        NetworkStream stream = client.GetStream();
        await stream.WriteAsync("*2\r\n$4\r\nINFO\r\n$12\r\ncommandstats\r\n"u8.ToArray());
        var reader = new StreamReader(stream, Encoding.ASCII);
        string header = await reader.ReadLineAsync() ?? throw new InvalidOperationException("Redis closed the connection.");
        int length = int.Parse(header.AsSpan(1), CultureInfo.InvariantCulture);
        char[] body = new char[length];
        int read = 0;
        while (read < length)
        {
            read += await reader.ReadAsync(body.AsMemory(read));
        }

        long commands = 0, publishes = 0;
        foreach (string line in new string(body).Split("\r\n"))
        {
            // cmdstat_publish:calls=12,usec=...
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (!line.StartsWith("cmdstat_", StringComparison.Ordinal) || colon < 0 || line.StartsWith("cmdstat_info:", StringComparison.Ordinal))
            {
                continue;
            }

            string calls = line[(colon + 1)..].Split(',')[0];
            long count = long.Parse(calls.AsSpan(calls.IndexOf('=', StringComparison.Ordinal) + 1), CultureInfo.InvariantCulture);
            commands += count;
            publishes += line.StartsWith("cmdstat_publish:", StringComparison.Ordinal) ? count : 0;
        }

        return (commands, publishes);
    }
}
