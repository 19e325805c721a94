using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Realtime.Client;
using Realtime.Server;
using Realtime.Testing;
using Realtime.TestSupport;

namespace Realtime.Browser.Tests;

/// <summary>The status page (MapRealtimeStatus) in Chromium, on real Kestrel, behind a policy of a test authentication scheme.</summary>
[Collection(BrowserCollection.Name)]
public sealed class StatusPageTests(BrowserFixture browser)
{
    private static readonly KeyValuePair<string, string>[] Operator = [new(StatusPageHost.UserHeader, "ops")];

    [ChromiumFact]
    public async Task With_credentials_the_page_shows_two_clients_and_their_room_then_a_third_connection_without_a_reload()
    {
        var logs = new LogSink();
        await using RealtimeTestHost host = await StatusPageHost.StartAsync(logs: logs, configureOptions: o => o.MaxQueuedBytes = 64L * 1024 * 1024);
        var probe = new ServerConnectionProbe(host.Server);
        var client = new Client.Client(host.Url.ToString());
        await using Connection ann = await ConnectAsync(client, probe, "design-review");
        await using Connection bob = await ConnectAsync(client, probe, "design-review");

        IPage page = await browser.NewPageAsync(Operator);
        IResponse? response = await page.GotoAsync(Origin(host) + StatusPageHost.Path);
        Assert.Equal(200, response!.Status);
        await Assertions.Expect(page.Locator("#state")).ToHaveAttributeAsync("data-state", "live");
        await Assertions.Expect(page.Locator("#connections-total")).ToHaveTextAsync("2");
        await Assertions.Expect(Members(page, "design-review")).ToHaveTextAsync("2");
        await Assertions.Expect(page.Locator("#rooms-total")).ToHaveTextAsync("1");

        // A mark in the page's own state: a reload would lose it.
        await page.EvaluateAsync("() => { window.statusPageMark = 'still-here'; }");
        await using Connection carol = await ConnectAsync(client, probe, "design-review");
        await Assertions.Expect(page.Locator("#connections-total")).ToHaveTextAsync("3");
        await Assertions.Expect(Members(page, "design-review")).ToHaveTextAsync("3");
        Assert.Equal("still-here", await page.EvaluateAsync<string>("() => window.statusPageMark"));

        // Traffic and a disconnect, so the rates and the recent disconnects show, then the page as docs/server.md shows it.
        await using Connection dan = await ConnectAsync(client, probe, "standup");
        Connection eve = await ConnectAsync(client, probe, "standup");
        string eveId = eve.Id!;
        await eve.DisposeAsync();
        await probe.WaitForDisconnectAsync(eveId);
        await Assertions.Expect(page.Locator("#disconnects tbody tr")).ToHaveCountAsync(1);

        // A client that reads nothing: 24 MiB broadcast to its room is more than the kernel's buffers hold (a few MiB while it
        // does not read), so the rest waits in its outbound queue, and it tops the slowest queues.
        await using RawProtocolClient stalled = await RawProtocolClient.ConnectWelcomedAsync(host.Url.ToString(), "roomId=replay");
        await probe.WaitAsync(stalled.ConnectionId!);
        string payload = new('x', 64 * 1024);
        for (int i = 0; i < 384; i++)
        {
            host.Server.Broadcast("replay", new { i, payload }, "snapshot");
        }

        await Assertions.Expect(page.Locator($"#queues tbody tr[data-connection='{stalled.ConnectionId}']")).ToHaveCountAsync(1);

        // Messages paced by the page's own refreshes (no sleeping), until a second of them shows as a rate.
        for (int round = 0; ; round++)
        {
            Assert.True(round < 30, "the page never showed a message rate");
            Task<IResponse> refreshed = page.WaitForResponseAsync(r => r.Url.EndsWith("/data", StringComparison.Ordinal));
            for (int i = 0; i < 5; i++)
            {
                ann.Send(new { round, i }, "edit");
                dan.Send(new { round, i }, "cursor");
            }

            await refreshed;
            if (round >= 3 && await page.Locator("#messages-in").TextContentAsync() is not ("0" or "…"))
            {
                break;
            }
        }

        await Assertions.Expect(page.Locator("#nodes tbody tr")).ToHaveAttributeAsync("data-node", host.Services.GetRequiredService<RealtimeBackplane>().NodeId);
        string artifacts = Environment.GetEnvironmentVariable("REALTIME_ARTIFACTS") ?? Path.Combine(AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(artifacts);
        string screenshot = Path.Combine(artifacts, "status-page.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        Assert.True(new FileInfo(screenshot).Length > 0);
        logs.AssertNoUnexpectedErrors();
    }

    [ChromiumFact]
    public async Task Without_credentials_the_page_gets_401_and_with_no_policy_named_it_is_refused_with_how_to_enable_it()
    {
        await using (RealtimeTestHost guarded = await StatusPageHost.StartAsync())
        {
            // Requests of the browser context (its headers, its cookies): Chromium does not navigate to an empty 401.
            IPage anonymous = await browser.NewPageAsync();
            Assert.Equal(401, (await anonymous.APIRequest.GetAsync(Origin(guarded) + StatusPageHost.Path)).Status);
            Assert.Equal(401, (await anonymous.APIRequest.GetAsync(Origin(guarded) + StatusPageHost.Path + "/data")).Status);
            IPage guest = await browser.NewPageAsync([new(StatusPageHost.UserHeader, "guest")]);
            Assert.Equal(403, (await guest.APIRequest.GetAsync(Origin(guarded) + StatusPageHost.Path)).Status);
        }

        await using RealtimeTestHost open = await StatusPageHost.StartAsync(StatusPageGuard.None);
        IPage page = await browser.NewPageAsync(Operator);
        IResponse? refused = await page.GotoAsync(Origin(open) + StatusPageHost.Path);
        Assert.Equal(403, refused!.Status);
        await Assertions.Expect(page.Locator("body")).ToContainTextAsync("served only behind an authorization policy");
    }

    private static string Origin(RealtimeTestHost host) => $"http://127.0.0.1:{host.Port}";

    private static ILocator Members(IPage page, string room) => page.Locator($"#rooms tbody tr[data-room='{room}'] td.n");

    private static async Task<Connection> ConnectAsync(Client.Client client, ServerConnectionProbe probe, string room)
    {
        Connection connection = await client.ConnectAsync(room).DefaultTimeout("a client to connect");
        await probe.WaitAsync(connection.Id!);
        return connection;
    }
}
