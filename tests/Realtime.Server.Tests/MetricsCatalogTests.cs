using System.Diagnostics.Metrics;

namespace Realtime.Server.Tests;

/// <summary>
/// The instruments a running server publishes on its meter are exactly the ones docs/server.md's table lists, with the kind and
/// unit it gives, and each is in docs/operations.md's Prometheus catalog (which the dashboard and the alert rules are checked
/// against): a new instrument, a renamed one or a changed unit fails here until both documents say so.
/// </summary>
public class MetricsCatalogTests
{
    [Fact]
    public async Task Every_instrument_the_server_publishes_is_documented_with_its_kind_and_unit_and_every_documented_one_is_published()
    {
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync();
        var meterFactory = host.Services.GetRequiredService<IMeterFactory>();
        var published = new Dictionary<string, (string Kind, string? Unit)>(StringComparer.Ordinal);
        using (var listener = new MeterListener())
        {
            listener.InstrumentPublished = (instrument, _) =>
            {
                // This host's meter only: the other tests' servers publish the same names on meters of their own.
                if (instrument.Meter.Name == "Realtime.Server" && ReferenceEquals(instrument.Meter.Scope, meterFactory))
                {
                    lock (published)
                    {
                        published[instrument.Name] = (KindOf(instrument), instrument.Unit);
                    }
                }
            };
            listener.Start(); // publishes every instrument created before it, synchronously
        }

        Dictionary<string, (string Kind, string Unit)> documented = ServerMdTable();
        HashSet<string> catalog = OperationsMdInstruments();

        Assert.True(published.Count >= 15, $"The server published {published.Count} instruments; expected the whole catalog.");
        Assert.Equal(documented.Keys.Order(StringComparer.Ordinal), published.Keys.Order(StringComparer.Ordinal));
        foreach ((string name, (string kind, string? unit)) in published)
        {
            Assert.Equal((documented[name].Kind, documented[name].Unit), (kind, unit));
            Assert.True(catalog.Contains(name), $"{name} is not in the Prometheus catalog of docs/operations.md.");
        }
    }

    private static string KindOf(Instrument instrument)
    {
        string name = instrument.GetType().Name;
        return name[..name.IndexOf('`', StringComparison.Ordinal)];
    }

    /// <summary>docs/server.md's instrument table: <c>| `name` | Kind | `unit` | tags | meaning |</c>.</summary>
    private static Dictionary<string, (string Kind, string Unit)> ServerMdTable() =>
        File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "docs", "server.md"))
            .Select(line => line.Trim())
            .Where(line => line.StartsWith("| `realtime.server.", StringComparison.Ordinal))
            .Select(line => line.Split('|').Select(cell => cell.Trim()).ToArray())
            .ToDictionary(cells => cells[1].Trim('`'), cells => (cells[2], cells[3].Trim('`')), StringComparer.Ordinal);

    /// <summary>The instrument column of docs/operations.md's catalog: <c>| `prometheus_name` | `instrument.name` | …</c>.</summary>
    private static HashSet<string> OperationsMdInstruments() =>
    [
        .. File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "docs", "operations.md"))
            .Where(line => line.StartsWith("| `realtime_server_", StringComparison.Ordinal))
            .Select(line => line.Split('|')[2].Trim().Trim('`')),
    ];
}
