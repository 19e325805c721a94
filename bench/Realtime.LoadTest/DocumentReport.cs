using System.Globalization;
using System.Text;

namespace Realtime.LoadTest;

/// <summary>The document benchmark's table (<see cref="Documents"/>), with the targets of the issue each store answers to.</summary>
internal static class DocumentReport
{
    private const string OneNode = "Realtime";

    private const string TwoNodes = "Realtime, two nodes";

    /// <summary>
    /// The table: each system's figures; Realtime's ratio to each peer, measured through the same load client (the Node driver's
    /// Realtime row against the original when it ran, the C# client's against ShareDB); and the issue's target, judged against
    /// the better peer of each row (the higher ops/s, the lower µs).
    /// </summary>
    public static string Markdown(Dictionary<string, List<Metric>> results, HashSet<string> nodeDriven, DocumentSettings settings, DocumentStoreKind store, string configuration, int repeat)
    {
        const string Ours = OneNode;
        string[] systems = [.. results.Keys];
        string[] peers = [.. systems.Where(s => !s.StartsWith(Ours, StringComparison.Ordinal))];
        string? OursFor(string peer)
        {
            string? sameClient = systems.FirstOrDefault(s => s.StartsWith(Ours, StringComparison.Ordinal) && s != TwoNodes && nodeDriven.Contains(s) == nodeDriven.Contains(peer));
            return sameClient ?? (systems.Contains(Ours) ? Ours : null);
        }

        Metric? Find(string system, Metric like) => results[system].FirstOrDefault(x => x.Scenario == like.Scenario && x.Name == like.Name);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Document benchmark ({configuration}, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}, store: {StoreName(store)}); ratio = Realtime ÷ peer, each through the same load client; target judged against the better peer.");
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

            bool comparable = !Documents.Summed.Contains(row.Name) && !row.Name.EndsWith("CPU s", StringComparison.Ordinal);
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
            (double Bound, bool AtLeast)? goal = Target(row.Name, store);
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
        text.Append(Scaling(results));
        text.AppendLine(CultureInfo.InvariantCulture, $"Settings: best of {repeat} run(s) per scenario and system (ops lost or doubled, errors: their sum); each editor one connection with one json0 op `{Documents.Op}` in flight, the next sent on the previous one's ack; {StoreSettings(store)}{settings.Warmup.TotalSeconds} s warm-up, {settings.Duration.TotalSeconds} s measured; load client: {string.Join(", ", systems.Select(s => $"{s} {(nodeDriven.Contains(s) ? "Node driver" : "C#")}"))}.");
        return text.ToString();
    }

    /// <summary>
    /// The target of a figure: on the in-memory stores, issue 30's (ops ≥ 5×, p99 ≤ 0.5×, server CPU ≤ 0.3× the better peer's); on a
    /// durable store, issue 31's (ops ≥ 3×, p99 ≤ 0.5×).
    /// </summary>
    private static (double Bound, bool AtLeast)? Target(string metric, DocumentStoreKind store) => (metric, store) switch
    {
        ("committed ops/s", DocumentStoreKind.Memory) => (5.0, true),
        ("committed ops/s", _) => (3.0, true),
        ("p99 submit-to-ack µs", _) => (0.5, false),
        ("server CPU µs per op", DocumentStoreKind.Memory) => (0.3, false),
        _ => null,
    };

    /// <summary>Two nodes' committed ops ÷ one node's, per scenario, when both ran; the target (≥ 1.6×) is for many documents.</summary>
    private static string Scaling(Dictionary<string, List<Metric>> results)
    {
        if (!results.TryGetValue(OneNode, out List<Metric>? one) || !results.TryGetValue(TwoNodes, out List<Metric>? two))
        {
            return string.Empty;
        }

        var text = new StringBuilder();
        foreach (Metric single in one.Where(m => m.Name == "committed ops/s"))
        {
            Metric? pair = two.FirstOrDefault(m => m.Scenario == single.Scenario && m.Name == single.Name);
            if (pair is null || single.Value == 0 || double.IsNaN(pair.Value))
            {
                continue;
            }

            double ratio = pair.Value / single.Value;
            bool many = !single.Scenario.StartsWith("one document", StringComparison.Ordinal);
            text.AppendLine(CultureInfo.InvariantCulture, $"Two nodes ÷ one node, {single.Scenario}: {pair.Value:N0} / {single.Value:N0} committed ops/s = **{ratio:0.00}×**{(many ? $" (target ≥ 1.6×: {(ratio >= 1.6 ? "met" : "missed")})" : string.Empty)}.");
        }

        return text.Length == 0 ? string.Empty : text.AppendLine().ToString();
    }

    private static string StoreName(DocumentStoreKind store) => store switch
    {
        DocumentStoreKind.Memory => "in-memory",
        DocumentStoreKind.Sqlite => "SQLite for Realtime, in-memory for the peers",
        _ => "PostgreSQL for every system",
    };

    private static string StoreSettings(DocumentStoreKind store) => store switch
    {
        DocumentStoreKind.Postgres => $"a fresh PostgreSQL per system and scenario, durable (fsync and synchronous commit on), {DocumentDeployment.PoolSize} pooled connections per node; ",
        DocumentStoreKind.Sqlite => "Realtime's SQLite file in WAL mode, synchronous FULL (its default); ",
        _ => string.Empty,
    };
}
