using System.Globalization;
using System.Text;
using Realtime.LoadTest;

// Usage:
//   dotnet run -c Release --project bench/Realtime.LoadTest -- --all            every system (Socket.IO when node is installed), full scenarios
//   dotnet run -c Release --project bench/Realtime.LoadTest -- --systems realtime,dense,strong,raw --repeat 2
//                                                                               (dense: Realtime on the dense listener, UseRealtime;
//                                                                                history: Realtime with every room keeping a history, clients asking for recovery)
//                                                                               best of two runs of each scenario per system
//   dotnet run -c Release --project bench/Realtime.LoadTest -- --smoke          Realtime only, seconds per scenario; fails on a lost delivery
//   dotnet run -c Release --project bench/Realtime.LoadTest -- --scale-out      two nodes on one redis-server each, Realtime then SignalR
//                                                                               (each with its Redis backplane): the cross-node scenarios
//   dotnet run -c Release --project bench/Realtime.LoadTest -- --systems realtime --scenarios "echo throughput" --seconds 30
//                                                                               one scenario held long enough to attach a profiler
//                                                                               (--scenarios takes parts of names: "echo", "fixed rate", "max rate", "idle")
//   dotnet run -c Release --project bench/Realtime.LoadTest -- --documents --repeat 2
//                                                                               the document benchmark (Documents.cs): Realtime, the original's
//                                                                               Node document server and ShareDB (--systems realtime,realtime-node,original,sharedb);
//                                                                               with --smoke, seconds per scenario; fails on an op lost, doubled or refused
//   dotnet run -c Release --project bench/Realtime.LoadTest -- --documents --store postgres --systems realtime,realtime-2,sharedb
//                                                                               the same on durable stores (DocumentDeployment.cs): --store sqlite
//                                                                               (Realtime's SQLite store) or postgres (a fresh PostgreSQL per system:
//                                                                               Realtime's store, sharedb-postgres, js-collaboration-ot-postgres);
//                                                                               realtime-2 is two Realtime nodes on one redis-server and that PostgreSQL
string[] systems = ["realtime"];
string[]? only = null;
LoadSettings settings = LoadSettings.Full;
bool smoke = false;
bool scaleOut = false;
bool documents = false;
bool systemsChosen = false;
DocumentStoreKind store = DocumentStoreKind.Memory;
double? seconds = null;
int repeat = 1;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--all":
            systems = ["realtime", "dense", "compat", "strong", "raw", "signalr", .. (NodeAvailable() ? ["socketio"] : Array.Empty<string>())];
            break;
        case "--systems":
            systems = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            systemsChosen = true;
            break;
        case "--smoke":
            smoke = true;
            settings = LoadSettings.Smoke;
            break;
        case "--scale-out":
            scaleOut = true;
            systems = ["realtime", "signalr"];
            break;
        case "--scenarios":
            only = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            break;
        case "--repeat":
            repeat = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--seconds":
            seconds = double.Parse(args[++i], CultureInfo.InvariantCulture);
            settings = settings with { Duration = TimeSpan.FromSeconds(seconds.Value) };
            break;
        case "--documents":
            documents = true;
            break;
        case "--store":
            store = Enum.Parse<DocumentStoreKind>(args[++i], ignoreCase: true);
            break;
        default:
            Console.Error.WriteLine($"Unknown argument {args[i]}. Use --all, --systems a,b, --smoke, --scale-out, --documents, --store memory|sqlite|postgres, --scenarios a,b, --repeat n or --seconds n.");
            return 2;
    }
}

string root = RepositoryRoot();
string configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name; // bin/<Configuration>/net10.0/
if (documents)
{
    DocumentSettings documentSettings = smoke ? DocumentSettings.Smoke : DocumentSettings.Full;
    if (seconds is { } measured)
    {
        documentSettings = documentSettings with { Duration = TimeSpan.FromSeconds(measured) };
    }

    return await Documents.RunAsync(systemsChosen ? systems : Documents.AllSystems, documentSettings, store, repeat, root, configuration);
}

(string Name, Func<Wire, ServerProcess, LoadSettings, Task<List<Metric>>> Run)[] scenarios =
[
    ("echo latency", Scenarios.EchoLatencyAsync),
    ("echo throughput", Scenarios.EchoThroughputAsync),
    ("fan-out, fixed rate", Scenarios.FanoutFixedRateAsync),
    ("fan-out, max rate", Scenarios.FanoutMaxRateAsync),
    ("idle connections", Scenarios.IdleConnectionsAsync),
];
scenarios = [.. scenarios.Where(s => only is null || only.Any(o => s.Name.Contains(o, StringComparison.OrdinalIgnoreCase)))];
(string Name, Func<Wire, ScaleOut.Cluster, LoadSettings, Task<List<Metric>>> Run)[] clusterScenarios =
[
    ("cross-node fan-out, max rate", ScaleOut.FanoutMaxRateAsync),
    ("cross-node fan-out, fixed rate", ScaleOut.FanoutFixedRateAsync),
    ("cross-node, many small rooms", ScaleOut.SmallRoomsAsync),
    ("cross-node join storm", ScaleOut.JoinStormAsync),
];
clusterScenarios = [.. clusterScenarios.Where(s => only is null || only.Any(o => s.Name.Contains(o, StringComparison.OrdinalIgnoreCase)))];
if (scaleOut)
{
    scenarios = [];
}
else
{
    clusterScenarios = [];
}

// Rounds outermost and systems innermost: the systems compared in a scenario run minutes apart at most, so a slow spell of
// the machine weighs on all of them alike rather than on whichever system it happened to fall on.
var best = new Dictionary<(string System, string Scenario), List<Metric>>();
for (int round = 0; round < repeat; round++)
{
    foreach ((string name, Func<Wire, ServerProcess, LoadSettings, Task<List<Metric>>> run) in scenarios)
    {
        foreach (string system in systems)
        {
            Wire wire = Wire.For(system);

            // A fresh server per scenario and round: one run's garbage and connections never weigh on the next.
            await using ServerProcess server = await ServerProcess.StartAsync(system, root, configuration);
            Console.Error.WriteLine($"== {wire.Name}: {name}… (server pid {server.ProcessId}{(repeat > 1 ? $", round {round + 1} of {repeat}" : "")})");
            List<Metric> figures = await run(wire, server, settings);
            figures.ForEach(m => Console.Error.WriteLine($"      {m.Name}: {m.Value.ToString(m.Format, CultureInfo.InvariantCulture)}"));
            best[(system, name)] = best.TryGetValue((system, name), out List<Metric>? earlier) ? [.. earlier.Zip(figures, Metric.Best)] : figures;
        }
    }

    foreach ((string name, Func<Wire, ScaleOut.Cluster, LoadSettings, Task<List<Metric>>> run) in clusterScenarios)
    {
        foreach (string system in systems)
        {
            // A fresh Redis and two fresh nodes per scenario and round.
            await using ScaleOut.Cluster cluster = await ScaleOut.Cluster.StartAsync(system, root, configuration);
            Console.Error.WriteLine($"== {Wire.For(system).Name}: {name}… (nodes {cluster.A.ProcessId} and {cluster.B.ProcessId}, redis {cluster.Redis.ProcessId}{(repeat > 1 ? $", round {round + 1} of {repeat}" : "")})");
            List<Metric> figures = await run(Wire.For(system), cluster, settings);
            figures.ForEach(m => Console.Error.WriteLine($"      {m.Name}: {m.Value.ToString(m.Format, CultureInfo.InvariantCulture)}"));
            best[(system, name)] = best.TryGetValue((system, name), out List<Metric>? earlier) ? [.. earlier.Zip(figures, Metric.Best)] : figures;
        }
    }
}

var results = new Dictionary<string, List<Metric>>();
foreach (string system in systems)
{
    results[Wire.For(system).Name] = [.. scenarios.Select(s => s.Name).Concat(clusterScenarios.Select(s => s.Name)).SelectMany(s => best[(system, s)])];
}

Console.WriteLine(Report.Markdown(results, settings, configuration, repeat));
long lost = (long)results.Values.SelectMany(m => m).Where(m => m.Name == "lost deliveries").Sum(m => m.Value);
if (scaleOut)
{
    // SignalR's losses and reorderings are recorded, not failed on: only Realtime promises none.
    lost = (long)results.Where(r => r.Key == "Realtime").SelectMany(r => r.Value).Where(m => m.Name is "lost deliveries" or "reordered deliveries").Sum(m => m.Value);
}

if (lost != 0)
{
    Console.Error.WriteLine($"FAILED: {lost} deliveries lost.");
    return 1;
}

if (smoke)
{
    Console.Error.WriteLine("Smoke load test passed: every scenario ran and no delivery was lost.");
}

return 0;

static bool NodeAvailable()
{
    try
    {
        using var node = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("node", "--version") { RedirectStandardOutput = true });
        node!.WaitForExit();
        return node.ExitCode == 0;
    }
    catch (System.ComponentModel.Win32Exception)
    {
        return false;
    }
}

static string RepositoryRoot()
{
    for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Realtime.sln")))
        {
            return dir.FullName;
        }
    }

    throw new InvalidOperationException("Realtime.sln not found above " + AppContext.BaseDirectory);
}

/// <summary>The comparison as a markdown table: each system's figure and Realtime's ratio to each peer.</summary>
internal static class Report
{
    public static string Markdown(Dictionary<string, List<Metric>> results, LoadSettings settings, string configuration, int repeat)
    {
        string[] systems = [.. results.Keys];

        // Ratio columns: Realtime ÷ each peer, then, when it ran, the dense listener ÷ each other system (MapRealtime included).
        (string Ours, string Peer, string Header)[] ratios =
        [
            .. Ratios(systems, "Realtime", "vs "),
            .. Ratios(systems, "Realtime (dense)", "dense vs "),
        ];
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Load test ({configuration}, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}); ratio = Realtime ÷ peer (for µs, KB and CPU s lower is better).");
        text.AppendLine();
        text.Append("| scenario | metric | ").Append(string.Join(" | ", systems));
        foreach ((_, _, string header) in ratios)
        {
            text.Append(" | ").Append(header);
        }

        text.AppendLine(" |");
        text.Append("|---|---|").Append(string.Concat(Enumerable.Repeat("---:|", systems.Length + ratios.Length))).AppendLine();
        foreach (Metric row in results[systems[0]])
        {
            text.Append(CultureInfo.InvariantCulture, $"| {row.Scenario} | {row.Name} |");
            foreach (string system in systems)
            {
                Metric? m = Find(results[system], row);
                text.Append(' ').Append(m is null ? "–" : m.Value.ToString(m.Format, CultureInfo.InvariantCulture)).Append(" |");
            }

            foreach ((string oursName, string peer, _) in ratios)
            {
                Metric? ours = Find(results[oursName], row);
                Metric? theirs = Find(results[peer], row);
                string ratio = ours is null || theirs is null || theirs.Value == 0 || row.Name is "lost deliveries" or "reordered deliveries"
                    ? "–"
                    : (ours.Value / theirs.Value).ToString("0.00", CultureInfo.InvariantCulture) + "×";
                text.Append(' ').Append(ratio).Append(" |");
            }

            text.AppendLine();
        }

        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Settings: best of {repeat} run(s) per scenario and system (lost deliveries: their sum); {settings.EchoClients} echo clients ({settings.InFlight} in flight for throughput), {settings.Subscribers} subscribers, fixed rate {settings.FixedRate} msg/s, window {settings.Window}, {settings.IdleConnections} idle connections; {settings.Warmup.TotalSeconds} s warm-up, {settings.Duration.TotalSeconds} s measured; 100-byte payloads.");
        return text.ToString();
    }

    /// <summary>One column per other system, when <paramref name="ours"/> ran and something else did too.</summary>
    private static IEnumerable<(string Ours, string Peer, string Header)> Ratios(string[] systems, string ours, string prefix)
        => systems.Contains(ours) ? systems.Where(s => s != ours && !(ours == "Realtime" && s == "Realtime (dense)")).Select(s => (ours, s, prefix + s)) : [];

    private static Metric? Find(List<Metric> metrics, Metric like) => metrics.FirstOrDefault(m => m.Scenario == like.Scenario && m.Name == like.Name);
}
