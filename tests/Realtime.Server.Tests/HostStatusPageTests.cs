using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Realtime.Server.Tests;

/// <summary>The runnable host maps the status page in Development, for loopback requests only, and not at all in Production.</summary>
public class HostStatusPageTests
{
    [Fact]
    public async Task In_development_a_loopback_request_over_kestrel_gets_the_data_and_one_without_an_address_gets_401()
    {
        await using var host = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.UseSetting("Realtime:Documents:Store", "memory"));
        host.UseKestrel(0);
        host.StartServer();
        using var http = new HttpClient { BaseAddress = host.ClientOptions.BaseAddress };

        using HttpResponseMessage data = await http.GetAsync("/realtime/status/data").DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, data.StatusCode);
        using JsonDocument json = JsonDocument.Parse(await data.Content.ReadAsStringAsync());
        Assert.Equal(0, json.RootElement.GetProperty("connections").GetProperty("total").GetInt32());

        // The in-memory test server's requests come from no address: not loopback, so refused like a remote one.
        await using var inMemory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.UseSetting("Realtime:Documents:Store", "memory"));
        using HttpResponseMessage refused = await inMemory.CreateClient().GetAsync("/realtime/status/data").DefaultTimeout();
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task In_production_the_host_does_not_map_it()
    {
        await using var host = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.UseSetting("Realtime:Documents:Store", "memory").UseEnvironment("Production"));
        using HttpResponseMessage response = await host.CreateClient().GetAsync("/realtime/status").DefaultTimeout();
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
