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
    public const string Op = "[{\"p\":[\"n\"],\"na\":1}]";

    private const string InitialData = "{\"n\":0}";

    /// <summary>The systems compared by default: Realtime through the C# client and through the Node driver (each peer is compared with the Realtime row of its own load client), then the peers.</summary>
    public static readonly string[] AllSystems = ["realtime", "realtime-node", "original", "sharedb"];

    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Names of the figures that add up over rounds instead of keeping the best.</summary>
    public static readonly string[] Summed = ["ops lost or doubled", "errors"];

    public static async Task<int> RunAsync(string[] systems, DocumentSettings settings, DocumentStoreKind store, int repeat, string root, string configuration)
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
                    await using DocumentDeployment server = await DocumentDeployment.StartAsync(wire, store, root, configuration);
                    Console.Error.WriteLine($"== {wire.Name}: {scenario}… (server pid {string.Join(", ", server.Nodes.Select(n => n.ProcessId))}{(repeat > 1 ? $", round {round + 1} of {repeat}" : "")})");
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
        Console.WriteLine(DocumentReport.Markdown(results, nodeDriven, settings, store, configuration, repeat));

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
    private static async Task<List<Metric>> RunScenarioAsync(DocumentWire wire, DocumentDeployment server, string scenario, int documents, int editors, DocumentSettings settings)
    {
        DocumentClient[][] rooms = await ConnectAsync(wire, server.Ports, documents, editors);
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
            (TimeSpan cpu, TimeSpan databaseCpu, TimeSpan clientCpu, TimeSpan window) = await phase.RunAsync(server);
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
            return Figures(server, scenario, measuredOps, window.TotalSeconds, Micros(latencies, 0.50), Micros(latencies, 0.99), cpu, databaseCpu, clientCpu, mismatched, errors);
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
    private static async Task<List<Metric>> RunNodeDriverAsync(string folder, DocumentDeployment server, string scenario, int documents, int editors, DocumentSettings settings)
    {
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList =
            {
                "driver.js",
                server.Ports[0].ToString(CultureInfo.InvariantCulture),
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
        TimeSpan databaseBefore = TimeSpan.Zero, databaseCpu = TimeSpan.Zero;
        string? result = null;
        try
        {
            while (await driver.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line == "measuring")
                {
                    before = server.CpuTime;
                    databaseBefore = server.DatabaseCpuTime;
                    clientBefore = ServerProcess.CpuTimeOf(driver.Id);
                }
                else if (line == "over")
                {
                    cpu = server.CpuTime - before;
                    databaseCpu = server.DatabaseCpuTime - databaseBefore;
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

        return Figures(server, scenario, measuredOps, windowSeconds, Number("p50"), Number("p99"), cpu, databaseCpu, clientCpu, Number("mismatched"), Number("errors"));
    }

    /// <summary>One scenario's figures, the database's CPU among them when the system has one.</summary>
    private static List<Metric> Figures(DocumentDeployment server, string scenario, long measuredOps, double windowSeconds, double p50, double p99,
                                        TimeSpan cpu, TimeSpan databaseCpu, TimeSpan clientCpu, double mismatched, double errors)
    {
        List<Metric> figures =
        [
            new(scenario, "committed ops/s", measuredOps / windowSeconds, true),
            new(scenario, "p50 submit-to-ack µs", p50, false),
            new(scenario, "p99 submit-to-ack µs", p99, false),
            new(scenario, "server CPU µs per op", measuredOps == 0 ? double.NaN : cpu.TotalMicroseconds / measuredOps, false, "N1"),
            new(scenario, "server CPU s", cpu.TotalSeconds, false, "N2"),
            new(scenario, "load client CPU s", clientCpu.TotalSeconds, false, "N2"),
            new(scenario, "ops lost or doubled", mismatched, false),
            new(scenario, "errors", errors, false),
        ];
        if (server.Database is not null)
        {
            figures.Insert(5, new(scenario, "database CPU µs per op", measuredOps == 0 ? double.NaN : databaseCpu.TotalMicroseconds / measuredOps, false, "N1"));
        }

        return figures;
    }

    /// <summary>Editor <c>e</c> of document <c>d</c> connects to node <c>(d × editors + e) mod nodes</c>: on two nodes, each document's editors are split between them.</summary>
    private static async Task<DocumentClient[][]> ConnectAsync(DocumentWire wire, IReadOnlyList<int> ports, int documents, int editors)
    {
        using var parallel = new SemaphoreSlim(64);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        return await Task.WhenAll(Enumerable.Range(0, documents).Select(d => Task.WhenAll(Enumerable.Range(0, editors).Select(async e =>
        {
            await parallel.WaitAsync(timeout.Token);
            try
            {
                return await DocumentClient.ConnectAsync(wire, ports[((d * editors) + e) % ports.Count], "doc" + d.ToString(CultureInfo.InvariantCulture), timeout.Token);
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

    /// <summary>Warm-up, then the measured window, then over.</summary>
    private sealed class Phase(DocumentSettings settings)
    {
        private volatile int _phase;

        public bool Measuring => _phase == 1;

        public bool Over => _phase == 2;

        /// <summary>Runs the phases; returns the server's CPU time and this process's (the load client's) over the measured window, and
        /// the window's real length (a starved process wakes late).</summary>
        public async Task<(TimeSpan Server, TimeSpan Database, TimeSpan Client, TimeSpan Window)> RunAsync(DocumentDeployment server)
        {
            await Task.Delay(settings.Warmup);
            TimeSpan before = server.CpuTime, databaseBefore = server.DatabaseCpuTime, clientBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var window = Stopwatch.StartNew();
            _phase = 1;
            await Task.Delay(settings.Duration);
            _phase = 2;
            window.Stop();
            return (server.CpuTime - before, server.DatabaseCpuTime - databaseBefore, Process.GetCurrentProcess().TotalProcessorTime - clientBefore, window.Elapsed);
        }
    }
}
