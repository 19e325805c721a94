using System.Globalization;
using Realtime.Server;

namespace Realtime.Server.Tests;

/// <summary>
/// A bounded soak on real sockets: a few hundred clients connect to random rooms through the fault proxy, send, get
/// their TCP connections reset or closed under them, reconnect, leave and join again. Afterwards every member that
/// should be connected is, no message was lost or reordered between a connected sender and a connected receiver,
/// the server is empty once everyone closed, nothing unexpected was logged, and nothing was leaked: every server-side
/// and client-side connection object is collected, and managed memory is back within a bound of a warmed-up baseline.
/// </summary>
/// <remarks>
/// About 60 s by default; <c>REALTIME_SOAK_SECONDS</c> sets the length of the chaos phase (default 45),
/// <c>REALTIME_SOAK_CLIENTS</c> the number of clients (default 200) and <c>REALTIME_SOAK_SEED</c> the seed (default
/// fixed, and printed: a failure can be replayed). <c>REALTIME_SOAK_REPORT</c> names a file the summary line is appended to.
/// </remarks>
[Collection(nameof(SoakTests))]
public class SoakTests
{
    private const int Rooms = 10;
    private const long MemoryBoundBytes = 16L * 1024 * 1024;

    private static readonly TimeSpan ChaosDuration = TimeSpan.FromSeconds(Setting("REALTIME_SOAK_SECONDS", 45));
    private static readonly TimeSpan WarmUpDuration = TimeSpan.FromSeconds(5);
    private static readonly int Clients = Setting("REALTIME_SOAK_CLIENTS", 200);
    private static readonly int Seed = Setting("REALTIME_SOAK_SEED", 20261201);

    [Fact]
    public async Task Hundreds_of_clients_with_random_drops_lose_nothing_and_leave_nothing_behind()
    {
        // Warning and above only: a sink that kept every Debug entry of every connection would be what the bound measures.
        var logs = new LogSink(Microsoft.Extensions.Logging.LogLevel.Warning);
        var serverConnections = new System.Collections.Concurrent.ConcurrentQueue<WeakReference>();
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(o =>
        {
            o.PingInterval = TimeSpan.FromSeconds(1);
            o.PingTimeout = TimeSpan.FromSeconds(2);
        }, s =>
        {
            s.On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(new { from = ctx.Connection.Id, d = ctx.Data }, ctx.Type));
            s.On(ServerEvents.Connect, ctx => serverConnections.Enqueue(new WeakReference(ctx.Connection)));
        }, logs: logs);

        // A warm-up round of the same work fills the pools, caches and thread-pool threads that any run leaves behind;
        // its own objects are gone by the time the baseline is taken.
        (_, WeakReference[] warmUpClients) = await RunAsync(host, WarmUpDuration, Seed + 1);
        await AllCollectedAsync([.. serverConnections], warmUpClients);
        // The baseline can include what earlier test classes of this process left in shared pools (ArrayPool keeps
        // their 1 MiB receive buffers until it trims them, a minute later), so in a full run the delta can be negative:
        // the bound catches growth, and the weak references below catch any leaked connection exactly.
        long memoryBefore = ManagedMemoryAfterFullGc();
        (SoakSummary summary, WeakReference[] clients) = await RunAsync(host, ChaosDuration, Seed);

        Assert.True(summary.Deliveries > 1_000, $"only {summary.Deliveries} deliveries: the soak did not exercise the relay");
        Assert.True(summary.Drops >= 10, $"only {summary.Drops} connections dropped by the proxy");

        // Deterministic, and blind to pools: once everything has closed, every connection object, server-side and
        // client-side, is collected. (A closed connection's last continuations may still be finishing on the thread pool.)
        WeakReference[] server = [.. serverConnections];
        Assert.True(server.Length >= clients.Length + warmUpClients.Length, $"{server.Length} server-side connections for {clients.Length + warmUpClients.Length} client connections");
        TimeSpan collected = await AllCollectedAsync(server, [.. clients, .. warmUpClients]);

        long memoryAfter = ManagedMemoryAfterFullGc();
        Assert.True(memoryAfter - memoryBefore <= MemoryBoundBytes,
            $"managed memory grew by {(memoryAfter - memoryBefore) / 1024} KiB over the warmed-up baseline (bound {MemoryBoundBytes / 1024} KiB; seed {Seed})");
        logs.AssertNoUnexpectedErrors();
        string line = $"Soak (seed {Seed}): {summary}; {server.Length} server-side and {clients.Length + warmUpClients.Length} client connections (warm-up included), all collected within {collected.TotalMilliseconds:0} ms; " +
                      $"managed memory {memoryBefore / 1024} KiB after the warm-up, {memoryAfter / 1024} KiB after the soak ({(memoryAfter - memoryBefore) / 1024:+#;-#;0} KiB, bound +{MemoryBoundBytes / 1024} KiB).";
        Console.WriteLine(line);

        // dotnet test shows no output of a passing test: CI names a file to collect the figures in.
        if (Environment.GetEnvironmentVariable("REALTIME_SOAK_REPORT") is { Length: > 0 } report)
        {
            await File.AppendAllTextAsync(report, line + Environment.NewLine);
        }
    }

    /// <summary>One round: connect, chaos for <paramref name="duration"/>, calm, verify, close everything.</summary>
    /// <returns>The round's figures, and weak references to its client connections (the round keeps none alive).</returns>
    private static async Task<(SoakSummary Summary, WeakReference[] Clients)> RunAsync(KestrelRealtimeHost host, TimeSpan duration, int seed)
    {
        await using FaultProxy proxy = await FaultProxy.StartAsync(new Uri(host.Url));
        var client = new Client.Client(proxy.Url.ToString(), new ClientOptions
        {
            ReconnectionDelay = TimeSpan.FromMilliseconds(50),
            ReconnectionDelayMax = TimeSpan.FromMilliseconds(500),
            Timeout = TimeSpan.FromSeconds(5),
        });
        var random = new Random(seed);
        var everyone = new List<Member>();
        var current = new Member[Clients];
        long[] nextSeq = new long[Clients];

        Member Join(int k)
        {
            var member = new Member(k, "room" + random.Next(Rooms), client);
            everyone.Add(member);
            return current[k] = member;
        }

        for (int k = 0; k < Clients; k++)
        {
            await Join(k).Connected();
        }

        // Chaos, bounded in time and in steps: every 20 ms a few sends, and now and then a reset, a clean TCP close,
        // or a member that leaves and joins a random room again.
        int drops = 0;
        var chaos = System.Diagnostics.Stopwatch.StartNew();
        for (int step = 0; chaos.Elapsed < duration && step < 100_000; step++)
        {
            for (int i = 0; i < 5; i++)
            {
                int k = random.Next(Clients);
                current[k].Connection.Send(new { k, s = nextSeq[k]++ }, "soak");
            }

            double dice = random.NextDouble();
            if (dice < 0.10 && proxy.Connections is { Count: > 0 } open)
            {
                ProxiedConnection victim = open.ElementAt(random.Next(open.Count));
                if (dice < 0.07)
                {
                    victim.Reset();
                }
                else
                {
                    victim.Close();
                }

                drops++;
            }
            else if (dice < 0.13)
            {
                int k = random.Next(Clients);
                await current[k].Connection.CloseAsync().DefaultTimeout();
                await Join(k).Connected();
            }

            await Task.Delay(20); // sleep-ok: paces the load generator; nothing waits on this for a result
        }

        // Calm: every current member reconnects by itself; then the server holds exactly them.
        foreach (Member member in current)
        {
            await member.Connected();
            await host.Connections.WaitAsync(member.Connection.Id!);
        }

        // Connections that were dropped or closed may still be on their way out on the server: wait until the
        // Connect and Disconnect hooks balance at exactly the current members, then the counts must agree.
        await host.Connections.WaitForOpenCountAsync(Clients);
        Assert.Equal(Clients, host.Server.ConnectionCount);
        Assert.All(current, m => Assert.NotNull(host.Server.GetConnection(m.Connection.Id!)));

        // A final round: each member's message reaches exactly every other member of its room.
        foreach (Member member in current)
        {
            member.Connection.Send(new { k = member.K, s = nextSeq[member.K]++ }, "final");
        }

        foreach (Member member in current)
        {
            int[] expected = current.Where(m => m.Room == member.Room && m != member).Select(m => m.K).Order().ToArray();
            await member.Received.WaitForAsync(r => r.Count(x => x.Type == "final") >= expected.Length, $"{expected.Length} final messages at member {member.K}");
            Assert.Equal(expected, member.Received.Items.Where(x => x.Type == "final").Select(x => x.K).Order());
        }

        // No loss, no reordering: whatever one receiver connection got from one sender connection is a gap-free,
        // increasing run of that sender's sequence numbers.
        long deliveries = 0;
        foreach (Member member in everyone)
        {
            foreach (IGrouping<(string Session, string From), Received> pair in member.Received.Items.Where(x => x.Type == "soak").GroupBy(x => (x.Session, x.From)))
            {
                Received[] run = [.. pair];
                deliveries += run.Length;
                Assert.True(run.All(x => x.K == run[0].K), $"sender connection {pair.Key.From} changed its client");
                for (int i = 1; i < run.Length; i++)
                {
                    Assert.True(run[i].S == run[i - 1].S + 1,
                        $"member {member.K} (connection {pair.Key.Session}) got seq {run[i].S} after {run[i - 1].S} from connection {pair.Key.From}");
                }
            }
        }

        foreach (Member member in current)
        {
            await member.Connection.CloseAsync().DefaultTimeout();
        }

        await host.Connections.WaitForOpenCountAsync(0);
        Assert.Equal(0, host.Server.ConnectionCount);
        Assert.Empty(host.Server.Rooms);
        foreach (Member member in everyone)
        {
            await member.Connection.DisposeAsync();
        }

        return (new SoakSummary(everyone.Count, drops, deliveries), [.. everyone.Select(m => new WeakReference(m.Connection))]);
    }

    /// <summary>Collects until every reference is dead, for at most 10 s; fails naming how many of each kind are still reachable.</summary>
    private static async Task<TimeSpan> AllCollectedAsync(WeakReference[] server, WeakReference[] clients)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            ManagedMemoryAfterFullGc();
            int serverAlive = server.Count(r => r.IsAlive), clientsAlive = clients.Count(r => r.IsAlive);
            if (serverAlive + clientsAlive == 0)
            {
                return watch.Elapsed;
            }

            if (watch.Elapsed > TimeSpan.FromSeconds(10))
            {
                Assert.Fail($"10 s after the last close, {serverAlive} of {server.Length} server-side and {clientsAlive} of {clients.Length} client connections are still reachable: a leak");
            }

            await Task.Delay(100); // sleep-ok: nothing signals that an object was collected; bounded at 10 s
        }
    }

    private static long ManagedMemoryAfterFullGc()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static int Setting(string name, int fallback)
        => int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : fallback;

    private sealed record SoakSummary(int Connections, int Drops, long Deliveries);

    private sealed record Received(string Session, string Type, string From, int K, long S);

    /// <summary>One client connection's life in a room, with what it received, keyed by the server-side id of the connection that received it.</summary>
    private sealed class Member
    {
        private readonly WatchedList<string> _events = new();
        private string _session = string.Empty;

        public Member(int k, string room, Client.Client client)
        {
            K = k;
            Room = room;
            Connection = client.Connect(room);
            Connection.On(ConnectionEvents.Connect, () =>
            {
                _session = Connection.Id!;
                _events.Add("connect");
            });
            Connection.On(ConnectionEvents.Disconnect, reason => _events.Add("disconnect:" + reason));
            Connection.On(ConnectionEvents.Message, m => Received.Add(new Received(_session, m.Type!, m.Data.GetProperty("from").GetString()!,
                m.Data.GetProperty("d").GetProperty("k").GetInt32(), m.Data.GetProperty("d").GetProperty("s").GetInt64())));
        }

        public int K { get; }

        public string Room { get; }

        public Connection Connection { get; }

        public WatchedList<Received> Received { get; } = new();

        /// <summary>Completes when the member's latest event is a Connect.</summary>
        public Task Connected() => _events.WaitForAsync(e => e.Count > 0 && e[^1] == "connect", $"member {K} to be connected");
    }
}

/// <summary>The soak runs alone, after the parallel test classes: its memory bound must not measure their garbage.</summary>
[CollectionDefinition(nameof(SoakTests), DisableParallelization = true)]
public sealed class SoakCollection
{
}
