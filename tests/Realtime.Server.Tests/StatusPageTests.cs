using System.Net;
using System.Text.Json;
using Realtime.Server;

namespace Realtime.Server.Tests;

/// <summary>MapRealtimeStatus on real Kestrel: who gets it, and what its data says about this node.</summary>
public class StatusPageTests
{
    [Theory]
    [InlineData(StatusPageGuard.None)]
    [InlineData(StatusPageGuard.AllowAnonymous)]
    public async Task Without_a_policy_the_page_and_its_data_are_refused_with_a_text_saying_how_to_enable_them(StatusPageGuard guard)
    {
        await using RealtimeTestHost host = await StatusPageHost.StartAsync(guard);
        using HttpClient http = Http(host, "ops");
        foreach (string path in (string[])[StatusPageHost.Path, StatusPageHost.Path + "/data"])
        {
            using HttpResponseMessage response = await http.GetAsync(path).DefaultTimeout();
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            string text = await response.Content.ReadAsStringAsync();
            Assert.Contains("authorization policy", text, StringComparison.Ordinal);
            Assert.Contains("MapRealtimeStatus(\"/realtime/status\", \"realtime-status\")", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Behind_a_policy_an_anonymous_request_gets_401_a_user_without_the_role_403_and_one_with_it_the_page()
    {
        await using RealtimeTestHost host = await StatusPageHost.StartAsync();
        using HttpClient anonymous = Http(host, null);
        using HttpClient guest = Http(host, "guest");
        using HttpClient ops = Http(host, "ops");

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(StatusPageHost.Path + "/data").DefaultTimeout()).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await guest.GetAsync(StatusPageHost.Path + "/data").DefaultTimeout()).StatusCode);

        using HttpResponseMessage page = await ops.GetAsync(StatusPageHost.Path).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-store", page.Headers.CacheControl?.ToString());
        string csp = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'sha256-", csp, StringComparison.Ordinal);
        string html = await page.Content.ReadAsStringAsync();
        Assert.DoesNotContain("http://", html, StringComparison.Ordinal); // no outside assets
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_data_lists_the_connections_the_rooms_by_member_count_and_the_fullest_outbound_queue()
    {
        await using RealtimeTestHost host = await StatusPageHost.StartAsync(configureOptions: o =>
        {
            o.PingInterval = TimeSpan.FromSeconds(60);
            o.PingTimeout = TimeSpan.FromSeconds(60);
            o.MaxQueuedMessages = 100_000;
            o.MaxQueuedBytes = 256L * 1024 * 1024;
        });
        var probe = new ServerConnectionProbe(host.Server);
        List<RawProtocolClient> clients = [];
        try
        {
            foreach (string room in (string[])["big", "big", "big", "small", "slow"])
            {
                RawProtocolClient client = await RawProtocolClient.ConnectWelcomedAsync(host.Url.ToString(), "roomId=" + room);
                await probe.WaitAsync(client.ConnectionId!);
                clients.Add(client);
            }

            // The member of "slow" reads nothing: broadcasts to its room fill the kernel's buffers (a few MiB on loopback while the
            // client reads nothing), then its outbound queue, which keeps what the kernel cannot take.
            string stalled = clients[^1].ConnectionId!;
            ServerConnection connection = host.Server.GetConnection(stalled)!;
            string payload = new('x', 32 * 1024);
            for (int i = 0; connection.Outbound.QueuedBytes < 24L * 1024 * 1024; i++)
            {
                Assert.True(i < 4_000, "the stalled connection's queue never filled");
                host.Server.Broadcast("slow", new { i, payload }, "fill");
            }

            using HttpClient ops = Http(host, "ops");
            using JsonDocument data = JsonDocument.Parse(await ops.GetStringAsync(StatusPageHost.Path + "/data").DefaultTimeout());
            JsonElement root = data.RootElement;

            Assert.Equal(host.Server.Backplane.NodeId, root.GetProperty("node").GetString());
            Assert.Equal(5, root.GetProperty("connections").GetProperty("total").GetInt32());
            JsonElement rooms = root.GetProperty("rooms");
            Assert.Equal(3, rooms.GetProperty("total").GetInt32());
            Assert.Equal(5, rooms.GetProperty("members").GetInt32());
            JsonElement[] largest = [.. rooms.GetProperty("largest").EnumerateArray()];
            Assert.Equal(("big", 3), (largest[0].GetProperty("room").GetString(), largest[0].GetProperty("members").GetInt32()));
            Assert.Equal(["slow", "small"], largest[1..].Select(r => r.GetProperty("room").GetString()).Order(StringComparer.Ordinal));

            JsonElement slowest = root.GetProperty("slowestQueues").EnumerateArray().First();
            Assert.Equal(stalled, slowest.GetProperty("connection").GetString());
            Assert.Equal("slow", slowest.GetProperty("room").GetString());
            Assert.True(slowest.GetProperty("frames").GetInt32() >= 1, slowest.ToString());
            Assert.True(slowest.GetProperty("bytes").GetInt64() >= 32 * 1024, slowest.ToString());

            JsonElement node = Assert.Single(root.GetProperty("nodes").EnumerateArray());
            Assert.True(node.GetProperty("self").GetBoolean());
            Assert.Equal(5, node.GetProperty("connections").GetInt32());
            Assert.Equal(3, node.GetProperty("rooms").GetInt32());
            Assert.True(root.GetProperty("messages").GetProperty("measuring").GetBoolean());
        }
        finally
        {
            foreach (RawProtocolClient client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_disconnect_appears_in_the_recent_disconnects_with_its_time_and_reason()
    {
        await using RealtimeTestHost host = await StatusPageHost.StartAsync();
        var probe = new ServerConnectionProbe(host.Server);
        Connection ann = await new Client.Client(host.Url.ToString()).ConnectAsync("room1").DefaultTimeout();
        string id = ann.Id!;
        await probe.WaitAsync(id);
        await ann.DisposeAsync();
        await probe.WaitForDisconnectAsync(id);

        using HttpClient ops = Http(host, "ops");
        using JsonDocument data = JsonDocument.Parse(await ops.GetStringAsync(StatusPageHost.Path + "/data").DefaultTimeout());
        JsonElement disconnects = data.RootElement.GetProperty("disconnects");
        JsonElement recent = Assert.Single(disconnects.GetProperty("recent").EnumerateArray());
        string reason = recent.GetProperty("reason").GetString()!;
        Assert.Contains(reason, (string[])["client_disconnect", "ClientDisconnect"]);
        Assert.InRange(recent.GetProperty("time").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Equal(1, disconnects.GetProperty("counts").GetProperty(reason).GetInt64());
    }

    private static HttpClient Http(RealtimeTestHost host, string? user)
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{host.Port}") };
        if (user is not null)
        {
            http.DefaultRequestHeaders.Add(StatusPageHost.UserHeader, user);
        }

        return http;
    }
}
