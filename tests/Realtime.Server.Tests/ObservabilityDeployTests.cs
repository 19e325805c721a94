using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Realtime.Server.Tests;

/// <summary>
/// The compose profile "observability" (deploy/prometheus, deploy/grafana) without Docker: its files parse, they refer to each
/// other and to the compose services as they are, and every Realtime metric and label the dashboard and the alert rules query
/// is in the catalog of docs/operations.md, whose Prometheus names follow from the instruments' names, kinds and units.
/// </summary>
public partial class ObservabilityDeployTests
{
    private static readonly string Deploy = Path.Combine(RepositoryPaths.Root, "deploy");

    /// <summary>Labels Prometheus itself adds, or histograms have.</summary>
    private static readonly string[] PrometheusLabels = ["instance", "job", "le"];

    [Fact]
    public void The_catalog_of_docs_operations_md_names_each_instrument_as_the_Prometheus_exporter_does()
    {
        IReadOnlyList<CatalogRow> catalog = Catalog();

        Assert.True(catalog.Count >= 10, $"The catalog table of docs/operations.md was not found (read {catalog.Count} rows).");
        Assert.Equal(catalog.Count, catalog.Select(row => row.Prometheus).Distinct().Count());
        Assert.All(catalog, row => Assert.Equal(PrometheusName(row.Instrument, row.Unit, row.Type), row.Prometheus));
    }

    [Fact]
    public void Every_metric_and_label_the_dashboard_queries_is_in_the_catalog()
    {
        using JsonDocument dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Deploy, "grafana", "dashboards", "realtime.json")));
        string datasource = ProvisionedDatasourceUid();
        List<JsonElement> panels = [.. dashboard.RootElement.GetProperty("panels").EnumerateArray()];
        List<string> queries = [.. dashboard.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray()
            .Select(variable => variable.GetProperty("definition").GetString()!)];

        Assert.Equal(panels.Count, panels.Select(panel => panel.GetProperty("id").GetInt32()).Distinct().Count());
        foreach (JsonElement panel in panels.Where(panel => panel.GetProperty("type").GetString() != "row"))
        {
            string title = panel.GetProperty("title").GetString()!;
            Assert.True(panel.TryGetProperty("gridPos", out _), $"Panel '{title}' has no gridPos.");
            Assert.Equal(datasource, panel.GetProperty("datasource").GetProperty("uid").GetString());
            List<JsonElement> targets = [.. panel.GetProperty("targets").EnumerateArray()];
            Assert.NotEmpty(targets);
            queries.AddRange(targets.Select(target => target.GetProperty("expr").GetString()!));
        }

        AssertQueriesUseTheCatalog(queries, "the dashboard");
    }

    [Fact]
    public void The_alert_rules_parse_query_the_catalog_and_each_links_its_section_of_docs_operations_md()
    {
        string operations = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs", "operations.md"));
        HashSet<string> anchors = [.. Heading().Matches(operations).Select(heading => Slug(heading.Groups[1].Value))];
        YamlMappingNode alerts = LoadYaml(Path.Combine(Deploy, "prometheus", "alerts.yml"));
        List<YamlMappingNode> rules = [.. Sequence(alerts, "groups").SelectMany(group => Sequence(group, "rules"))];

        Assert.NotEmpty(rules);
        foreach (YamlMappingNode rule in rules)
        {
            string name = Scalar(rule, "alert");
            Assert.Contains(Scalar((YamlMappingNode)rule["labels"], "severity"), new[] { "critical", "warning", "info" });
            var annotations = (YamlMappingNode)rule["annotations"];
            Assert.NotEmpty(Scalar(annotations, "summary"));
            string runbook = Scalar(annotations, "runbook");
            Assert.StartsWith("docs/operations.md#", runbook, StringComparison.Ordinal);
            Assert.True(anchors.Contains(runbook.Split('#')[1]), $"{name}'s runbook {runbook} is no heading of docs/operations.md.");
        }

        AssertQueriesUseTheCatalog([.. rules.Select(rule => Scalar(rule, "expr"))], "alerts.yml");
    }

    [Fact]
    public void Prometheus_and_Grafana_are_wired_to_the_compose_services_and_files()
    {
        YamlMappingNode compose = LoadYaml(Path.Combine(RepositoryPaths.Root, "docker-compose.yml"));
        var services = (YamlMappingNode)compose["services"];
        foreach (string service in new[] { "prometheus", "grafana" })
        {
            var definition = (YamlMappingNode)services[service];
            Assert.Equal(["observability"], Scalars(definition, "profiles"));
            foreach (string volume in Scalars(definition, "volumes"))
            {
                string host = volume.Split(':')[0];
                Assert.True(Directory.Exists(Path.Combine(RepositoryPaths.Root, host)), $"{service} mounts {host}, which is not in the repository.");
            }
        }

        // Prometheus: its rule files are beside its configuration (paths relative to it), and it scrapes /metrics.
        YamlMappingNode prometheus = LoadYaml(Path.Combine(Deploy, "prometheus", "prometheus.yml"));
        foreach (string rules in Scalars(prometheus, "rule_files"))
        {
            Assert.True(File.Exists(Path.Combine(Deploy, "prometheus", rules)), $"Rule file {rules} is not in deploy/prometheus.");
        }

        YamlMappingNode job = Assert.Single(Sequence(prometheus, "scrape_configs"), scrape => Scalar(scrape, "job_name") == "realtime");
        Assert.Equal("/metrics", Scalar(job, "metrics_path"));

        // Grafana: the datasource is the compose service "prometheus"; the dashboards' folder is where compose mounts them.
        var datasource = (YamlMappingNode)Sequence(LoadYaml(Path.Combine(Deploy, "grafana", "provisioning", "datasources", "prometheus.yml")), "datasources")[0];
        Assert.Equal("http://prometheus:9090", Scalar(datasource, "url"));
        var provider = (YamlMappingNode)Sequence(LoadYaml(Path.Combine(Deploy, "grafana", "provisioning", "dashboards", "realtime.yml")), "providers")[0];
        string dashboards = Scalar((YamlMappingNode)provider["options"], "path");
        Assert.Contains($"./deploy/grafana/dashboards:{dashboards}:ro", Scalars((YamlMappingNode)services["grafana"], "volumes"));
    }

    /// <summary>Every <c>realtime_server_*</c> metric (a histogram's <c>_bucket</c>, <c>_sum</c>, <c>_count</c> series included) and every <c>realtime_*</c> label in the queries is in the catalog.</summary>
    private static void AssertQueriesUseTheCatalog(IReadOnlyList<string> queries, string where)
    {
        IReadOnlyList<CatalogRow> catalog = Catalog();
        HashSet<string> series = [.. catalog.SelectMany(row => row.Type == "histogram"
            ? new[] { row.Prometheus + "_bucket", row.Prometheus + "_sum", row.Prometheus + "_count" }
            : [row.Prometheus])];
        HashSet<string> labels = [.. catalog.SelectMany(row => row.Labels), .. PrometheusLabels];
        int metrics = 0;
        foreach (string query in queries)
        {
            foreach (string metric in MetricName().Matches(query).Select(match => match.Value))
            {
                metrics++;
                Assert.True(series.Contains(metric), $"{where} queries {metric}, which the catalog of docs/operations.md does not have: {query}");
            }

            foreach (string label in LabelName().Matches(query).Select(match => match.Value))
            {
                Assert.True(labels.Contains(label), $"{where} uses the label {label}, which the catalog of docs/operations.md does not have: {query}");
            }
        }

        Assert.True(metrics > 0, $"{where} queries no Realtime metric.");
    }

    /// <summary>The Prometheus name of an instrument, as OpenTelemetry's Prometheus exporter makes it: dots become <c>_</c>, the unit (annotations in braces dropped, <c>s</c> and <c>By</c> spelled out) is added unless the name ends with it, and a counter ends with <c>_total</c>.</summary>
    private static string PrometheusName(string instrument, string unit, string type)
    {
        string name = instrument.Replace('.', '_');
        string suffix = Regex.Replace(unit, "{[^}]*}", "") switch
        {
            "s" => "seconds",
            "By" => "bytes",
            var other => other,
        };
        if (suffix.Length > 0 && !name.EndsWith("_" + suffix, StringComparison.Ordinal))
        {
            name += "_" + suffix;
        }

        return type == "counter" && !name.EndsWith("_total", StringComparison.Ordinal) ? name + "_total" : name;
    }

    /// <summary>The rows of the catalog table of docs/operations.md: | `prometheus_name` | `instrument.name` | `unit` | type | `label`, … | meaning |.</summary>
    private static IReadOnlyList<CatalogRow> Catalog() =>
        [.. File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "docs", "operations.md"))
            .Where(line => line.StartsWith("| `realtime_server_", StringComparison.Ordinal))
            .Select(line => line.Split('|').Select(cell => cell.Trim()).ToArray())
            .Select(cells => new CatalogRow(
                cells[1].Trim('`'), cells[2].Trim('`'), cells[3].Trim('`'), cells[4],
                [.. Code().Matches(cells[5]).Select(match => match.Groups[1].Value)]))];

    private static string ProvisionedDatasourceUid() =>
        Scalar((YamlMappingNode)Sequence(LoadYaml(Path.Combine(Deploy, "grafana", "provisioning", "datasources", "prometheus.yml")), "datasources")[0], "uid");

    private static YamlMappingNode LoadYaml(string path)
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(path))
        {
            yaml.Load(reader);
        }

        return (YamlMappingNode)Assert.Single(yaml.Documents).RootNode;
    }

    private static List<YamlMappingNode> Sequence(YamlMappingNode node, string key) => [.. ((YamlSequenceNode)node[key]).Children.Cast<YamlMappingNode>()];

    private static List<string> Scalars(YamlMappingNode node, string key) => [.. ((YamlSequenceNode)node[key]).Children.Select(child => ((YamlScalarNode)child).Value ?? "")];

    private static string Scalar(YamlMappingNode node, string key) => ((YamlScalarNode)node[key]).Value ?? "";

    /// <summary>A heading's GitHub anchor: lower case, spaces to dashes, other punctuation dropped.</summary>
    private static string Slug(string heading) =>
        new([.. heading.Trim().ToLowerInvariant().Replace(' ', '-').Where(c => char.IsLetterOrDigit(c) || c is '-' or '_')]);

    [GeneratedRegex(@"\brealtime_server_[a-z0-9_]+")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"\brealtime_(?!server_)[a-z0-9_]+")]
    private static partial Regex LabelName();

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Code();

    [GeneratedRegex(@"^#{2,4} (.+)$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    private sealed record CatalogRow(string Prometheus, string Instrument, string Unit, string Type, IReadOnlyList<string> Labels);
}
