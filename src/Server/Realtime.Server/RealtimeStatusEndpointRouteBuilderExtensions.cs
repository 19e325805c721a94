using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Realtime.Server;
using Realtime.Server.Internal.StatusPage;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the Realtime status page.</summary>
public static class RealtimeStatusEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps a live status page of this node (and, with a backplane that has a heartbeat such as Redis, of the cluster's nodes) at
    /// <paramref name="pattern"/>, with the JSON it reads every second at <paramref name="pattern"/><c>/data</c>: connections, rooms by
    /// member count, messages per second in and out, the fullest outbound queues, and the recent refusals and disconnects by reason.
    /// The page is one embedded HTML file that loads nothing from elsewhere.
    /// </summary>
    /// <remarks>
    /// <para>Never open by default: both routes answer 403 (with a text saying how to enable them) unless authorization guards them,
    /// through <paramref name="authorizationPolicy"/> or a <c>RequireAuthorization</c> convention on the returned builder.
    /// <c>AllowAnonymous</c> does not open it; a policy that allows everyone does, for an app that wants that.</para>
    /// <para>Cost: nothing on the server's paths while nobody looks, beyond a listener on the refusal and disconnect counters. Each data
    /// request walks this node's connection and room tables once; the per-message counters are listened to (one interlocked add per
    /// message) only from a data request until 30 s after the last one.</para>
    /// </remarks>
    /// <param name="endpoints">The application's endpoints.</param>
    /// <param name="pattern">The page's route. Default <c>/realtime/status</c>.</param>
    /// <param name="authorizationPolicy">The authorization policy that guards the page and its data (<c>RequireAuthorization</c>), or
    /// <see langword="null"/> to add one on the returned builder; with neither, every request is refused.</param>
    /// <returns>The convention builder of both routes (for example to add <c>RequireAuthorization</c> or <c>RequireHost</c>).</returns>
    /// <exception cref="InvalidOperationException"><c>AddRealtime</c> was not called.</exception>
    /// <example>
    /// <code>
    /// builder.Services.AddAuthorization(o => o.AddPolicy("realtime-status", p => p.RequireRole("ops")));
    /// app.MapRealtimeStatus("/realtime/status", "realtime-status");
    /// </code>
    /// </example>
    public static IEndpointConventionBuilder MapRealtimeStatus(this IEndpointRouteBuilder endpoints, string pattern = "/realtime/status", string? authorizationPolicy = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pattern);
        IServiceProvider services = endpoints.ServiceProvider;
        RealtimeServer server = services.GetService<RealtimeServer>()
            ?? throw new InvalidOperationException(
                $"Unable to find the Realtime services. Call 'builder.Services.AddRealtime()' when configuring services, before '{nameof(MapRealtimeStatus)}'.");

        var monitor = new StatusMonitor(services.GetService<IMeterFactory>(), server.Time);
        services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopped.Register(monitor.Dispose);
        var status = new StatusEndpoint(server, monitor);

        RouteGroupBuilder group = endpoints.MapGroup(pattern);
        group.MapGet("", new RequestDelegate(status.ServePageAsync)).WithDisplayName("Realtime status page " + pattern);
        group.MapGet("/data", new RequestDelegate(status.ServeDataAsync)).WithDisplayName("Realtime status data " + pattern);
        if (authorizationPolicy is not null)
        {
            group.RequireAuthorization(authorizationPolicy);
        }

        return group;
    }
}
