using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Realtime.LoadTest;

/// <summary>What the cross-node scenarios measure besides deliveries: order per publisher, CPU per process, Redis's commands.</summary>
internal static partial class ScaleOut
{
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
