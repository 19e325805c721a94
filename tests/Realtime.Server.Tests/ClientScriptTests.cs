using System.Net;
using System.Net.Http.Headers;

namespace Realtime.Server.Tests;

/// <summary>MapRealtimeClientScript serves the browser client from the server assembly; the host serves it and the demo page.</summary>
public class ClientScriptTests
{
    private static readonly string Source = File.ReadAllText(Path.Combine(RepositoryPaths.BrowserClient, "src", "realtime-client.js"));

    [Fact]
    public async Task The_host_serves_the_client_module_with_its_content_type_an_ETag_and_revalidation()
    {
        await using var app = new RealtimeAppFactory();
        using HttpClient http = app.CreateClient();
        using HttpResponseMessage response = await http.GetAsync("/realtime/client.js");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        Assert.Equal(Source, await response.Content.ReadAsStringAsync());
        EntityTagHeaderValue etag = Assert.IsType<EntityTagHeaderValue>(response.Headers.ETag);
        Assert.False(etag.IsWeak);
        Assert.True(response.Headers.CacheControl?.NoCache);
        Assert.True(response.Headers.CacheControl?.Public);

        using var revalidate = new HttpRequestMessage(HttpMethod.Get, "/realtime/client.js");
        revalidate.Headers.IfNoneMatch.Add(etag);
        using HttpResponseMessage notModified = await http.SendAsync(revalidate);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());

        using var stale = new HttpRequestMessage(HttpMethod.Get, "/realtime/client.js");
        stale.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"an-older-version\""));
        using HttpResponseMessage changed = await http.SendAsync(stale);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);

        using HttpResponseMessage head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/realtime/client.js"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(etag, head.Headers.ETag);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task The_host_serves_the_demo_page_at_the_root_and_it_loads_nothing_from_outside()
    {
        await using var app = new RealtimeAppFactory();
        using HttpClient http = app.CreateClient();
        foreach (string path in new[] { "/", "/demo.js", "/demo.css" })
        {
            using HttpResponseMessage response = await http.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            string body = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain("https://", body, StringComparison.Ordinal);
            Assert.DoesNotContain("http://", body, StringComparison.Ordinal);
        }

        Assert.Contains("from \"/realtime/client.js\"", await http.GetStringAsync("/demo.js"), StringComparison.Ordinal);
    }
}
