using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Realtime.Protocol;
using Realtime.Server;

namespace Realtime.Server.Tests;

public class LifetimeTests
{
    [Theory]
    [InlineData(HostMode.Endpoint)]
    [InlineData(HostMode.Dense)]
    public async Task Stopping_refuses_new_upgrades_with_503_then_closes_every_connection_with_1001_and_runs_disconnect_hooks(HostMode mode)
    {
        var reasons = new TaskCompletionSource<DisconnectReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(mode, configureServer: s => s.On(ServerEvents.Disconnect, ctx => reasons.TrySetResult(ctx.Reason)));
        await using RawProtocolClient raw = await RawProtocolClient.ConnectWelcomedAsync(host.Url);

        host.Server.Stop();
        var refused = await Assert.ThrowsAsync<WebSocketException>(() => RawProtocolClient.ConnectAsync(host.Url));
        Assert.Contains("503", refused.Message, StringComparison.Ordinal);
        Assert.Equal(CloseCodes.GoingAway, await raw.ReceiveCloseAsync());
        Assert.Equal(DisconnectReason.TransportClose, await reasons.Task.DefaultTimeout());
        await host.StopAsync();
    }

    [Fact]
    public void MapRealtime_without_AddRealtime_fails_with_a_message_that_says_so()
    {
        WebApplication app = WebApplication.CreateSlimBuilder().Build();
        var ex = Assert.Throws<InvalidOperationException>(() => app.MapRealtime("/realtime"));
        Assert.Contains("AddRealtime", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_options_fail_at_start_up_naming_the_setting()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddRealtime(o =>
        {
            o.PingInterval = TimeSpan.Zero;
            o.MaxQueuedMessages = 0;
            o.MaxQueuedBytes = 10;
            o.MaxConnections = 0;
            o.MaxConnectionsPerIpAddress = -1;
            o.MaxMessagesPerSecond = -1;
            o.MessageBurst = 0;
            o.MaxThrottleTime = TimeSpan.Zero;
            o.AllowedOrigins.Add("https://app.example.com/path");
        });
        await using WebApplication app = builder.Build();

        // MapRealtime resolves the server, so validation fails there already; StartAsync (ValidateOnStart) would catch it otherwise.
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            app.MapRealtime("/realtime");
            await app.StartAsync();
        });
        Assert.Contains("Realtime:PingInterval", ex.Message, StringComparison.Ordinal);
        foreach (string setting in (string[])["MaxQueuedMessages", "MaxQueuedBytes", "MaxConnections ", "MaxConnectionsPerIpAddress", "MaxMessagesPerSecond", "MessageBurst", "MaxThrottleTime", "AllowedOrigins"])
        {
            Assert.Contains("Realtime:" + setting, ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_host_binds_the_Realtime_configuration_section()
    {
        // A host setting of this factory alone (the same configuration key as Realtime__PingInterval): a process-wide
        // environment variable would reach every other factory started meanwhile by the parallel test classes.
        using var factory = new RealtimeAppFactory();
        using WebApplicationFactory<Program> app = factory.WithWebHostBuilder(b => b.UseSetting("Realtime:PingInterval", "00:00:01"));
        RealtimeOptions options = app.Services.GetRequiredService<IOptions<RealtimeOptions>>().Value;
        Assert.Equal(TimeSpan.FromSeconds(1), options.PingInterval);
        Assert.Equal(TimeSpan.FromSeconds(20), options.PingTimeout);
    }

    [Fact]
    public async Task The_host_answers_healthz_and_maps_the_realtime_endpoint_at_its_path()
    {
        // That conventions compose with the endpoint (RequireAuthorization) is tested with a real scheme in AuthorizationTests.
        await using var app = new RealtimeAppFactory();
        using HttpClient http = app.CreateClient();
        using HttpResponseMessage health = await http.GetAsync(new Uri("/healthz", UriKind.Relative)).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        RouteEndpoint endpoint = Assert.IsType<RouteEndpoint>(
            Assert.Single(app.Services.GetRequiredService<EndpointDataSource>().Endpoints, e => e.DisplayName == "Realtime /realtime"), exactMatch: false);
        Assert.Equal("/realtime", endpoint.RoutePattern.RawText);
    }
}
