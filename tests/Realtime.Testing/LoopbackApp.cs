using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Realtime.Testing;

/// <summary>Starts an ASP.NET Core app on real Kestrel at 127.0.0.1 (port 0 picks a free port).</summary>
public static class LoopbackApp
{
    public static async Task<(WebApplication App, int Port)> StartAsync(Action<WebApplicationBuilder> configureBuilder, Action<WebApplication> configureApp, int port = 0)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        configureBuilder(builder);
        WebApplication app = builder.Build();
        configureApp(app);
        await app.StartAsync().DefaultTimeout("Kestrel to start");
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address).Port);
    }
}
