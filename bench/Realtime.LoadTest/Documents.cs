using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Realtime.LoadTest;

/// <summary>How big and how long each document scenario is. <see cref="Full"/> is the comparison; <see cref="Smoke"/> checks that it runs.</summary>
/// <remarks>The full warm-up is 15 s for every system: a .NET server under this load spends its first 8–10 s compiling its hot paths again
/// (tiered compilation: 2–3 s of CPU on the JIT's background thread, measured per thread), and a 5 s warm-up left most of that in the
/// measured window (docs/performance.md, "Documents").</remarks>
internal sealed record DocumentSettings(int OneDocumentEditors, int Documents, int EditorsPerDocument, TimeSpan Warmup, TimeSpan Duration)
{
    public static DocumentSettings Full { get; } = new(10, 1000, 2, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(10));

    public static DocumentSettings Smoke { get; } = new(10, 50, 2, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(2));
}

/// <summary>
/// The document benchmark (issue 30): editors each submit their next json0 op as soon as the previous one is acknowledged,
/// on one document and across many, against Realtime (its compatibility endpoint with <c>UseDocuments</c>), the original's
/// Node document server (the same wire, the same client) and ShareDB 7 (its own wire, spoken by the same client). Every
/// loop is bounded in count and time; loopback only.
/// </summary>
internal static class Documents
{
    /// <summary>Every editor's op: add 1 to the counter <c>n</c>, so the final document says how many ops were applied.</summary>
    private const string Op = "[{\"p\":[\"n\"],\"na\":1}]";

    private const string InitialData = "{\"n\":0}";

    /// <summary>The systems compared by default: Realtime through the C# client and through the Node driver (each peer is compared with the Realtime row of its own load client), then the peers.</summary>
    public static readonly string[] AllSystems = ["realtime", "realtime-node", "original", "sharedb"];

    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Names of the figures that add up over rounds instead of keeping the best.</summary>
    private static readonly string[] Summed = ["ops lost or doubled", "errors"];

    public static async Task<int> RunAsync(string[] systems, DocumentSettings settings, int repeat, string root, string configuration)
    {
        (string Name, int Documents, int Editors)[] scenarios =
        [
            ($"one document, {settings.OneDocumentEditors} editors", 1, settings.OneDocumentEditors),
            ($"{settings.Documents:N0} documents, {settings.EditorsPerDocument} editors each", settings.Documents, settings.EditorsPerDocument),
        ];

        // Rounds outermost and systems innermost, as the other scenarios: a slow spell of the machine weighs on every system alike.
        var best = new Dictionary<(string System, string Scenario), List<Metric>>();
        for (int round = 0; round < repeat; round++)
        {
            foreach ((string scenario, int documents, int editors) in scenarios)
            {
                foreach (string system in systems)
                {
                    DocumentWire wire = DocumentWire.For(system);
                    await using ServerProcess server = await ServerProcess.StartAsync(wire.ServerSystem, root, configuration);
                    Console.Error.WriteLine($"== {wire.Name}: {scenario}… (server pid {server.ProcessId}{(repeat > 1 ? $", round {round + 1} of {repeat}" : "")})");
                    List<Metric> figures = wire.NodeDriver is { } driver
                        ? await RunNodeDriverAsync(Path.Combine(root, "bench", "peers", driver), server, scenario, documents, editors, settings)
                        : await RunScenarioAsync(wire, server, scenario, documents, editors, settings);
                    figures.ForEach(m => Console.Error.WriteLine($"      {m.Name}: {m.Value.ToString(m.Format, CultureInfo.InvariantCulture)}"));
                    best[(system, scenario)] = best.TryGetValue((system, scenario), out List<Metric>? earlier) ? [.. earlier.Zip(figures, Best)] : figures;
                }
            }
        }

        var results = systems.ToDictionary(s => DocumentWire.For(s).Name, s => scenarios.SelectMany(c => best[(s, c.Name)]).ToList());
        HashSet<string> nodeDriven = [.. systems.Select(DocumentWire.For).Where(w => w.NodeDriver is not null).Select(w => w.Name)];
        Console.WriteLine(Markdown(results, nodeDriven, settings, configuration, repeat));

        double failures = results.Values.SelectMany(m => m).Where(m => Summed.Contains(m.Name)).Sum(m => m.Value);
        bool idle = results.Values.SelectMany(m => m).Any(m => m.Name == "committed ops/s" && m.Value == 0);
        if (failures != 0 || idle)
        {
            Console.Error.WriteLine($"FAILED: {failures} ops lost, doubled or refused{(idle ? ", or a system committed nothing" : "")}.");
            return 1;
        }

        Console.Error.WriteLine("Document benchmark passed: every system committed ops, and every final document counts exactly the acknowledged ops.");
        return 0;
    }

    /// <summary>The better of two rounds' figure (a round that failed has none: the other's stands); the summed ones add up.</summary>
    private static Metric Best(Metric a, Metric b)
        => Summed.Contains(a.Name) ? a with { Value = a.Value + b.Value } : double.IsNaN(a.Value) ? b : double.IsNaN(b.Value) ? a : Metric.Best(a, b);

    /// <summary>
    /// Connects <paramref name="editors"/> editors to each of <paramref name="documents"/> documents, subscribes them, creates
    /// each document with its first editor, then lets every editor submit op after op (one in flight) through a warm-up and
    /// the measured window; then checks each document's counter against the acks its editors received.
    /// </summary>
    private static async Task<List<Metric>> RunScenarioAsync(DocumentWire wire, ServerProcess server, string scenario, int documents, int editors, DocumentSettings settings)
    {
        DocumentClient[][] rooms = await ConnectAsync(wire, server.Port, documents, editors);
        DocumentClient[] all = [.. rooms.SelectMany(r => r)];
        try
        {
            await BoundedAsync(all, c => c.RequestAsync(wire.Subscribe(c.Document)));
            await BoundedAsync(rooms, r => r[0].SubmitAsync(wire.Create(r[0].Document, r[0].NextSeq(), InitialData), 1));
            await UntilAsync(() => all.All(c => c.Version >= 1), "every editor sees its document created");

            long[] acked = new long[documents];
            long measuredOps = 0;
            long errors = 0;
            string? firstError = null;
            var samples = new List<long>[all.Length];
            var phase = new Phase(settings);
            var limit = Stopwatch.StartNew();
            TimeSpan hardLimit = settings.Warmup + settings.Duration + ReplyTimeout;
            Task[] loops = [.. rooms.SelectMany((room, d) => room.Select((client, e) => (client, d, index: (d * editors) + e))).Select(x => Task.Run(async () =>
            {
                var mine = samples[x.index] = new List<long>(4096);
                try
                {
                    while (!phase.Over && limit.Elapsed < hardLimit)
                    {
                        long seq = x.client.NextSeq();
                        byte[] frame = wire.Op(x.client.Document, x.client.Version, seq, Op);
                        long start = Stopwatch.GetTimestamp();
                        long arrived = await x.client.SubmitAsync(frame, seq).WaitAsync(ReplyTimeout);
                        Interlocked.Increment(ref acked[x.d]);
                        if (phase.Measuring)
                        {
                            // Every op acknowledged in the window counts, and its whole submit-to-ack time (sent before the window
                            // or not): a server whose acks take longer than the window still gets figures.
                            Interlocked.Increment(ref measuredOps);
                            mine.Add(arrived - start);
                        }
                    }
                }
                catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or System.Net.WebSockets.WebSocketException)
                {
                    Interlocked.Increment(ref errors);
                    Interlocked.CompareExchange(ref firstError, ex.Message, null);
                }
            }))];
            (TimeSpan cpu, TimeSpan clientCpu, TimeSpan window) = await phase.RunAsync(server);
            await Task.WhenAll(loops);
            if (firstError is not null)
            {
                Console.Error.WriteLine($"      {errors} editor(s) stopped on an error; the first: {firstError}");
            }

            // The check: each document's counter is its create's 0 plus one per acknowledged op, nothing lost or applied twice.
            long mismatched = 0;
            await BoundedAsync(rooms.Select((room, d) => (room, d)), async x =>
            {
                DocumentMessage snapshot = await x.room[0].RequestAsync(wire.Fetch(x.room[0].Document));
                Interlocked.Add(ref mismatched, Math.Abs((snapshot.SnapshotCounter ?? -1) - Interlocked.Read(ref acked[x.d])));
            });

            long[] latencies = [.. samples.SelectMany(s => s).Order()];
            return
            [
                new(scenario, "committed ops/s", measuredOps / window.TotalSeconds, true),
                new(scenario, "p50 submit-to-ack µs", Micros(latencies, 0.50), false),
                new(scenario, "p99 submit-to-ack µs", Micros(latencies, 0.99), false),
                new(scenario, "server CPU µs per op", measuredOps == 0 ? double.NaN : cpu.TotalMicroseconds / measuredOps, false, "N1"),
                new(scenario, "server CPU s", cpu.TotalSeconds, false, "N2"),
                new(scenario, "load client CPU s", clientCpu.TotalSeconds, false, "N2"),
                new(scenario, "ops lost or doubled", mismatched, false),
                new(scenario, "errors", errors, false),
            ];
        }
        finally
        {
            await Task.WhenAll(all.Select(c => c.DisposeAsync().AsTask()));
        }
    }

    /// <summary>
    /// The same scenario generated by a Node driver (bench/peers/&lt;folder&gt;/driver.js, the same messages and the same
    /// one-op-in-flight loop as <see cref="RunScenarioAsync"/>): it prints "measuring" and "over" around the measured window,
    /// when the server's CPU time is read, and then its figures as one line of JSON.
    /// </summary>
    private static async Task<List<Metric>> RunNodeDriverAsync(string folder, ServerProcess server, string scenario, int documents, int editors, DocumentSettings settings)
    {
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList =
            {
                "driver.js",
                server.Port.ToString(CultureInfo.InvariantCulture),
                documents.ToString(CultureInfo.InvariantCulture),
                editors.ToString(CultureInfo.InvariantCulture),
                ((long)settings.Warmup.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
                ((long)settings.Duration.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
            },
        };
        using Process driver = Process.Start(start) ?? throw new InvalidOperationException("Could not start node " + folder + "/driver.js");
        driver.ErrorDataReceived += (_, e) =>
        {
            if (!string.IsNullOrEmpty(e.Data))
            {
                Console.Error.WriteLine("[driver] " + e.Data);
            }
        };
        driver.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(settings.Warmup + settings.Duration + TimeSpan.FromMinutes(5));
        TimeSpan before = server.CpuTime, cpu = TimeSpan.Zero, clientBefore = TimeSpan.Zero, clientCpu = TimeSpan.Zero;
        string? result = null;
        try
        {
            while (await driver.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line == "measuring")
                {
                    before = server.CpuTime;
                    clientBefore = ServerProcess.CpuTimeOf(driver.Id);
                }
                else if (line == "over")
                {
                    cpu = server.CpuTime - before;
                    clientCpu = ServerProcess.CpuTimeOf(driver.Id) - clientBefore;
                }
                else if (line.StartsWith('{'))
                {
                    result = line;
                }
            }

            await driver.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            driver.Kill(entireProcessTree: true);
            Console.Error.WriteLine("      the driver overran its time limit and was stopped");
        }

        using var figures = System.Text.Json.JsonDocument.Parse(result ?? "{\"measuredOps\":0,\"p50\":null,\"p99\":null,\"mismatched\":0,\"errors\":1,\"firstError\":\"the driver gave no figures\"}");
        System.Text.Json.JsonElement r = figures.RootElement;
        long measuredOps = r.GetProperty("measuredOps").GetInt64();
        double windowSeconds = r.TryGetProperty("windowMs", out System.Text.Json.JsonElement window) ? window.GetDouble() / 1000 : settings.Duration.TotalSeconds;
        double Number(string name) => r.GetProperty(name).ValueKind == System.Text.Json.JsonValueKind.Number ? r.GetProperty(name).GetDouble() : double.NaN;
        if (r.GetProperty("firstError").ValueKind == System.Text.Json.JsonValueKind.String)
        {
            Console.Error.WriteLine($"      {Number("errors")} editor(s) stopped on an error; the first: {r.GetProperty("firstError").GetString()}");
        }

        return
        [
            new(scenario, "committed ops/s", measuredOps / windowSeconds, true),
            new(scenario, "p50 submit-to-ack µs", Number("p50"), false),
            new(scenario, "p99 submit-to-ack µs", Number("p99"), false),
            new(scenario, "server CPU µs per op", measuredOps == 0 ? double.NaN : cpu.TotalMicroseconds / measuredOps, false, "N1"),
            new(scenario, "server CPU s", cpu.TotalSeconds, false, "N2"),
            new(scenario, "load client CPU s", clientCpu.TotalSeconds, false, "N2"),
            new(scenario, "ops lost or doubled", Number("mismatched"), false),
            new(scenario, "errors", Number("errors"), false),
        ];
    }

    private static async Task<DocumentClient[][]> ConnectAsync(DocumentWire wire, int port, int documents, int editors)
    {
        using var parallel = new SemaphoreSlim(64);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        return await Task.WhenAll(Enumerable.Range(0, documents).Select(d => Task.WhenAll(Enumerable.Range(0, editors).Select(async _ =>
        {
            await parallel.WaitAsync(timeout.Token);
            try
            {
                return await DocumentClient.ConnectAsync(wire, port, "doc" + d.ToString(CultureInfo.InvariantCulture), timeout.Token);
            }
            finally
            {
                parallel.Release();
            }
        }))));
    }

    /// <summary>Runs <paramref name="action"/> on every item, at most 64 at a time, each within the reply timeout.</summary>
    private static async Task BoundedAsync<T>(IEnumerable<T> items, Func<T, Task> action)
    {
        using var parallel = new SemaphoreSlim(64);
        await Task.WhenAll(items.Select(async item =>
        {
            await parallel.WaitAsync();
            try
            {
                await action(item).WaitAsync(ReplyTimeout);
            }
            finally
            {
                parallel.Release();
            }
        }));
    }

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > ReplyTimeout)
            {
                throw new TimeoutException($"Not within {ReplyTimeout}: {what}.");
            }

            await Task.Delay(20); // polling a condition the receive loops change; bounded by the timeout above
        }
    }

    private static double Micros(long[] sortedTimestampDeltas, double quantile)
        => sortedTimestampDeltas.Length == 0 ? double.NaN : sortedTimestampDeltas[(int)(quantile * (sortedTimestampDeltas.Length - 1))] * 1_000_000.0 / Stopwatch.Frequency;

    /// <summary>
    /// The table: each system's figures; Realtime's ratio to each peer, measured through the same load client (the Node driver's
    /// Realtime row against the original when it ran, the C# client's against ShareDB); and the issue's target, judged against
    /// the better peer of each row (the higher ops/s, the lower µs).
    /// </summary>
    private static string Markdown(Dictionary<string, List<Metric>> results, HashSet<string> nodeDriven, DocumentSettings settings, string configuration, int repeat)
    {
        const string Ours = "Realtime";
        string[] systems = [.. results.Keys];
        string[] peers = [.. systems.Where(s => !s.StartsWith(Ours, StringComparison.Ordinal))];
        string? OursFor(string peer)
        {
            string? sameClient = systems.FirstOrDefault(s => s.StartsWith(Ours, StringComparison.Ordinal) && nodeDriven.Contains(s) == nodeDriven.Contains(peer));
            return sameClient ?? (systems.Contains(Ours) ? Ours : null);
        }

        Metric? Find(string system, Metric like) => results[system].FirstOrDefault(x => x.Scenario == like.Scenario && x.Name == like.Name);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Document benchmark ({configuration}, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}); ratio = Realtime ÷ peer, each through the same load client; target judged against the better peer.");
        text.AppendLine();
        text.Append("| scenario | metric | ").Append(string.Join(" | ", systems));
        foreach (string peer in peers)
        {
            text.Append(" | ÷ ").Append(peer);
        }

        text.AppendLine(" | target (vs the better peer) |");
        text.Append("|---|---|").Append(string.Concat(Enumerable.Repeat("---:|", systems.Length + peers.Length))).AppendLine("---|");
        foreach (Metric row in results[systems[0]])
        {
            text.Append(CultureInfo.InvariantCulture, $"| {row.Scenario} | {row.Name} |");
            foreach (string system in systems)
            {
                Metric? m = Find(system, row);
                text.Append(' ').Append(m is null || double.IsNaN(m.Value) ? "–" : m.Value.ToString(m.Format, CultureInfo.InvariantCulture)).Append(" |");
            }

            bool comparable = !Summed.Contains(row.Name) && !row.Name.EndsWith("CPU s", StringComparison.Ordinal);
            var ratios = new Dictionary<string, double>();
            foreach (string peer in peers)
            {
                Metric? theirs = Find(peer, row);
                Metric? our = OursFor(peer) is { } o ? Find(o, row) : null;
                if (comparable && our is not null && theirs is not null && theirs.Value != 0 && !double.IsNaN(theirs.Value) && !double.IsNaN(our.Value))
                {
                    ratios[peer] = our.Value / theirs.Value;
                }

                text.Append(' ').Append(ratios.TryGetValue(peer, out double r) ? r.ToString("0.00", CultureInfo.InvariantCulture) + "×" : "–").Append(" |");
            }

            string target = "–";
            (double Bound, bool AtLeast)? goal = row.Name switch
            {
                "committed ops/s" => (5.0, true),
                "p99 submit-to-ack µs" => (0.5, false),
                "server CPU µs per op" => (0.3, false),
                _ => null,
            };
            string[] measured = [.. peers.Where(p => Find(p, row) is { } m && !double.IsNaN(m.Value))];
            if (goal is { } g && measured.Length > 0)
            {
                string better = row.HigherIsBetter ? measured.MaxBy(p => Find(p, row)!.Value)! : measured.MinBy(p => Find(p, row)!.Value)!;
                string bound = $"{(g.AtLeast ? "≥" : "≤")} {g.Bound.ToString("0.0", CultureInfo.InvariantCulture)}×";
                target = ratios.TryGetValue(better, out double r)
                    ? $"{bound}: {((g.AtLeast ? r >= g.Bound : r <= g.Bound) ? "met" : "missed")} ({better})"
                    : $"{bound}: no Realtime figure";
            }

            text.AppendLine(CultureInfo.InvariantCulture, $" {target} |");
        }

        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Settings: best of {repeat} run(s) per scenario and system (ops lost or doubled, errors: their sum); each editor one connection with one json0 op `{Op}` in flight, the next sent on the previous one's ack; {settings.Warmup.TotalSeconds} s warm-up, {settings.Duration.TotalSeconds} s measured; load client: {string.Join(", ", systems.Select(s => $"{s} {(nodeDriven.Contains(s) ? "Node driver" : "C#")}"))}.");
        return text.ToString();
    }

    /// <summary>Warm-up, then the measured window, then over.</summary>
    private sealed class Phase(DocumentSettings settings)
    {
        private volatile int _phase;

        public bool Measuring => _phase == 1;

        public bool Over => _phase == 2;

        /// <summary>Runs the phases; returns the server's CPU time and this process's (the load client's) over the measured window, and
        /// the window's real length (a starved process wakes late).</summary>
        public async Task<(TimeSpan Server, TimeSpan Client, TimeSpan Window)> RunAsync(ServerProcess server)
        {
            await Task.Delay(settings.Warmup);
            TimeSpan before = server.CpuTime, clientBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var window = Stopwatch.StartNew();
            _phase = 1;
            await Task.Delay(settings.Duration);
            _phase = 2;
            window.Stop();
            return (server.CpuTime - before, Process.GetCurrentProcess().TotalProcessorTime - clientBefore, window.Elapsed);
        }
    }
}
