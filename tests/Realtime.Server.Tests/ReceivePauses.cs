using System.Diagnostics.Metrics;

namespace Realtime.Server.Tests;

/// <summary>The server's <c>realtime.server.receive.pauses</c> counter, collected from an app's meter factory.</summary>
internal static class ReceivePauses
{
    public static MetricCollector<long> Collect(IServiceProvider services)
        => new(services.GetRequiredService<IMeterFactory>(), "Realtime.Server", "realtime.server.receive.pauses");

    /// <summary>Whether a pause with this cause (<c>application</c> or <c>rate_limit</c>) was recorded.</summary>
    public static bool Any(this MetricCollector<long> pauses, string cause)
        => pauses.GetMeasurementSnapshot().Any(m => m.Tags["realtime.pause.cause"] as string == cause);
}
