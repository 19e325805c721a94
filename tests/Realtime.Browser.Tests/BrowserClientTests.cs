using System.Text.Json;
using Microsoft.Playwright;
using Realtime.Client;
using Realtime.Server;
using Realtime.Testing;
using Realtime.TestSupport;

namespace Realtime.Browser.Tests;

/// <summary>The browser client in real headless Chromium against the real server on a loopback port.</summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserClientTests(BrowserFixture browser)
{
    private static readonly object FastRetry = new { reconnectionDelay = 50, reconnectionDelayMax = 200 };

    /// <summary>A harness page with one connection to room1, connected and known to the server (its connect hooks ran).</summary>
    private async Task<(HarnessPage Page, string Id)> ConnectedPageAsync(BrowserTestApp app, object? clientOptions = null)
    {
        HarnessPage page = await HarnessPage.OpenAsync(browser, app.Origin);
        await page.ConnectAsync("room1", clientOptions);
        await page.WaitForEventAsync("connect");
        string id = await page.GetAsync<string>("connection.id");
        await app.Connections.WaitAsync(id);
        return (page, id);
    }

    [ChromiumFact]
    public async Task Two_pages_in_one_room_exchange_messages_of_every_kind_with_and_without_type()
    {
        await using BrowserTestApp app = await BrowserTestApp.StartAsync();
        HarnessPage a = await HarnessPage.OpenAsync(browser, app.Origin);
        HarnessPage b = await HarnessPage.OpenAsync(browser, app.Origin);
        await a.ConnectAsync("room1");
        await b.ConnectAsync("room1");
        await app.Connections.WaitForOpenCountAsync(2);

        await a.RunAsync("""
            connection.send("hello");
            connection.send("typed string", "note");
            connection.send({ userId: "user1", active: true }, "my-presence");
            connection.send(42);
            connection.send([1, "two", null]);
            connection.send(null, "nothing");
            connection.send(new Uint8Array([0, 1, 254, 255]));
            connection.send(new Uint8Array([7]).buffer, "blob");
            connection.send(new DataView(new Uint8Array([5, 6]).buffer), "view");
            """);
        await b.WaitForEventAsync("message", 9);

        string[] received = [.. (await b.EventsAsync()).Where(e => e.Name == "message").Select(e => $"{e.Args[0].GetRawText()} | {e.Args[1].GetRawText()}")];
        Assert.Equal(
            [
                "\"hello\" | null", "\"typed string\" | \"note\"", "{\"userId\":\"user1\",\"active\":true} | \"my-presence\"", "42 | null",
                "[1,\"two\",null] | null", "null | \"nothing\"", "{\"binary\":[0,1,254,255]} | null", "{\"binary\":[7]} | \"blob\"",
                "{\"binary\":[5,6]} | \"view\"",
            ],
            received);
        Assert.DoesNotContain("message", (await a.EventsAsync()).Select(e => e.Name));
    }

    [ChromiumFact]
    public async Task After_a_server_restart_on_the_same_port_the_page_reconnects_with_a_new_id_and_delivers_what_it_sent_offline()
    {
        BrowserTestApp app = await BrowserTestApp.StartAsync();
        int port = app.Port;
        HarnessPage page = await HarnessPage.OpenAsync(browser, app.Origin);
        await page.ConnectAsync("room1", FastRetry);
        await page.WaitForEventAsync("connect");
        string firstId = await page.GetAsync<string>("connection.id");
        Assert.Matches("^[A-Za-z0-9_-]{20}$", firstId);
        Assert.Equal(firstId, (await app.Connections.WaitAsync(firstId)).Id);

        await app.DisposeAsync();
        await page.WaitForEventAsync("error");
        await page.RunAsync("connection.send('sent while offline', 'offline')");
        Assert.False(await page.GetAsync<bool>("connection.connected"));

        var seen = new WatchedList<string>();
        await using BrowserTestApp restarted = await BrowserTestApp.StartAsync(
            configureServer: s => s.On(ServerEvents.Message, ctx => seen.Add($"{ctx.Message.Type}: {ctx.Message.Data.GetString()}")), port: port);
        await page.WaitForEventAsync("connect", 2);
        string secondId = await page.GetAsync<string>("connection.id");
        Assert.NotEqual(firstId, secondId);
        Assert.Equal(secondId, (await restarted.Connections.WaitAsync(secondId)).Id);
        await seen.WaitForAsync(s => s.Count == 1, "the message sent while offline, at the restarted server");
        Assert.Equal(["offline: sent while offline"], seen.Items);

        // The sequence of the C# client: Disconnect → ReconnectAttempt(1) → Error → … → Reconnect(n) → Connect.
        IReadOnlyList<PageEvent> events = await page.EventsAsync();
        string[] names = [.. events.Select(e => e.Name)];
        Assert.Equal(["connect", "disconnect", "reconnectAttempts"], names[..3]);
        Assert.Equal(["reconnect", "connect"], names[^2..]);
        int attempts = names.Count(n => n == "reconnectAttempts");
        Assert.Equal(attempts - 1, names.Count(n => n == "error"));
        Assert.Equal(attempts, events[^2].Args[0].GetInt32());
        for (int i = 2; i < names.Length - 2; i++)
        {
            Assert.Equal(i % 2 == 0 ? "reconnectAttempts" : "error", names[i]);
        }

        PageEvent disconnect = events[1];
        Assert.Equal((int)DisconnectReason.TransportClose, disconnect.Args[0].GetInt32());
        Assert.Null(disconnect.Id);
        Assert.False(disconnect.Connected);
        Assert.Equal(firstId, events[0].Id);
        Assert.Equal(secondId, events[^1].Id);
    }

    [ChromiumFact]
    public async Task Close_is_a_client_disconnect_on_both_sides_and_never_reconnects()
    {
        await using BrowserTestApp app = await BrowserTestApp.StartAsync();
        (HarnessPage page, string id) = await ConnectedPageAsync(app, FastRetry);

        await page.RunAsync("connection.close()");
        Assert.Equal(DisconnectReason.ClientDisconnect, await app.Connections.WaitForDisconnectAsync(id));
        Assert.Equal(["connect", "disconnect:0"], await page.EventNamesAsync());
        Assert.Equal(0, app.Server.ConnectionCount);
    }

    [ChromiumFact]
    public async Task A_server_Close_is_a_server_disconnect_and_the_page_does_not_reconnect()
    {
        await using BrowserTestApp app = await BrowserTestApp.StartAsync();
        HarnessPage page = await HarnessPage.OpenAsync(browser, app.Origin);
        await page.ConnectAsync("room1", FastRetry);
        await page.WaitForEventAsync("connect");
        (await app.Connections.WaitAsync(await page.GetAsync<string>("connection.id"))).Close();

        await page.WaitForEventAsync("disconnect");
        Assert.Equal(["connect", "disconnect:1"], await page.EventNamesAsync());
        Assert.False(await page.GetAsync<bool>("connection.connected"));
        // The connection is closed for good (no retry is scheduled): sending now is refused.
        PlaywrightException refused = await Assert.ThrowsAsync<PlaywrightException>(() => page.RunAsync("connection.send('after Close')"));
        Assert.Contains("The connection is closed", refused.Message, StringComparison.Ordinal);
    }

    [ChromiumFact]
    public async Task A_page_that_hears_no_ping_reports_a_ping_timeout_and_reconnects()
    {
        await using BrowserTestApp app = await BrowserTestApp.StartAsync(o =>
        {
            o.PingInterval = TimeSpan.FromMilliseconds(300);
            o.PingTimeout = TimeSpan.FromMilliseconds(700);
        });
        await using FaultProxy proxy = await FaultProxy.StartAsync(new Uri(app.RealtimeUrl));
        string proxyOrigin = $"http://127.0.0.1:{proxy.Port}";
        HarnessPage page = await HarnessPage.OpenAsync(browser, proxyOrigin);
        // The blackhole is the proxy's, so it also swallows the first reconnection attempt's upgrade; a short attempt
        // timeout ends that attempt, and the next one goes through the healed proxy.
        await page.ConnectAsync("room1", new { reconnectionDelay = 50, reconnectionDelayMax = 200, timeout = 1000 });
        await page.WaitForEventAsync("connect");

        proxy.Blackhole();
        await page.WaitForEventAsync("disconnect");
        await page.WaitForEventAsync("reconnectAttempts");
        proxy.Heal();
        await page.WaitForEventAsync("connect", 2);
        string[] names = await page.EventNamesAsync();
        Assert.Equal(["connect", $"disconnect:{(int)DisconnectReason.PingTimeout}", "reconnectAttempts:1"], names[..3]);
        Assert.Equal("connect", names[^1]);
        Assert.StartsWith("reconnect:", names[^2], StringComparison.Ordinal);
        Assert.All(names[3..^2], n => Assert.True(n.StartsWith("error:", StringComparison.Ordinal) || n.StartsWith("reconnectAttempts:", StringComparison.Ordinal), n));
    }

    [ChromiumFact]
    public async Task A_protocol_violation_an_oversized_message_is_a_transport_error_and_the_page_reconnects()
    {
        await using BrowserTestApp app = await BrowserTestApp.StartAsync(o => o.MaxMessageSize = 1024);
        (HarnessPage page, string id) = await ConnectedPageAsync(app, FastRetry);

        await page.RunAsync("connection.send('x'.repeat(2000))");
        Assert.Equal(DisconnectReason.TransportError, await app.Connections.WaitForDisconnectAsync(id));
        await page.WaitForEventAsync("connect", 2);
        Assert.Equal(["connect", $"disconnect:{(int)DisconnectReason.TransportError}", "reconnectAttempts:1", "reconnect:1", "connect"], await page.EventNamesAsync());
    }

    [ChromiumFact]
    public async Task A_middleware_rejection_raises_error_with_the_server_text_and_no_disconnect_and_no_retry()
    {
        var attempts = new WatchedList<string>();
        await using BrowserTestApp app = await BrowserTestApp.StartAsync(configureServer: s =>
        {
            s.Use(ServerEvents.Connect, async (ctx, next) =>
            {
                string token = ctx.Connection.Auth.ValueKind == JsonValueKind.Object ? ctx.Connection.Auth.GetProperty("token").GetString() ?? "" : "";
                attempts.Add(token);
                if (token != "valid-token")
                {
                    ctx.Reject("Authentication failed");
                    return;
                }

                await next();
            });
        });
        HarnessPage page = await HarnessPage.OpenAsync(browser, app.Origin);
        await page.ConnectAsync("room1", FastRetry, new { auth = new { token = "wrong" } });
        await page.WaitForEventAsync("error");
        int good = await page.ConnectAsync("room1", FastRetry, new { auth = new { token = "valid-token" } });
        await page.WaitForEventAsync("connect", index: good);

        Assert.Equal(["error:Authentication failed"], await page.EventNamesAsync());
        Assert.Equal(["wrong", "valid-token"], attempts.Items);
        Assert.False(await page.GetAsync<bool>("connection.connected"));
        await Assert.ThrowsAsync<PlaywrightException>(() => page.RunAsync("connection.send('after the rejection')"));
    }

    [ChromiumFact]
    public async Task Auth_given_as_an_async_function_is_asked_again_for_every_reconnection()
    {
        var tokens = new WatchedList<string>();
        await using BrowserTestApp app = await BrowserTestApp.StartAsync(configureServer: s =>
            s.Use(ServerEvents.Connect, async (ctx, next) =>
            {
                tokens.Add(ctx.Connection.Auth.GetProperty("token").GetString()!);
                await next();
            }));
        await using FaultProxy proxy = await FaultProxy.StartAsync(new Uri(app.RealtimeUrl));
        HarnessPage page = await HarnessPage.OpenAsync(browser, $"http://127.0.0.1:{proxy.Port}");
        await page.Page.EvaluateAsync("""
            () => {
              let n = 0;
              window.connectRoom("room1", { reconnectionDelay: 50, reconnectionDelayMax: 100 },
                                 { auth: () => new Promise(resolve => setTimeout(() => resolve({ token: "t" + ++n }), 10)) });
            }
            """);
        await page.WaitForEventAsync("connect");
        await app.Connections.WaitAsync(await page.GetAsync<string>("connection.id"));
        proxy.ResetConnections();
        await page.WaitForEventAsync("connect", 2);
        Assert.Equal(["t1", "t2"], tokens.Items);
    }

    [ChromiumTheory]
    [InlineData("window.dispatchEvent(new Event('online'))")]
    [InlineData("Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true }); document.dispatchEvent(new Event('visibilitychange'))")]
    public async Task The_network_or_the_tab_coming_back_reconnects_at_once_instead_of_waiting_out_the_backoff(string comeBack)
    {
        BrowserTestApp app = await BrowserTestApp.StartAsync();
        int port = app.Port;
        HarnessPage page = await HarnessPage.OpenAsync(browser, app.Origin);
        await page.ConnectAsync("room1", new { reconnectionDelay = 60_000, reconnectionDelayMax = 60_000, randomizationFactor = 0 });
        await page.WaitForEventAsync("connect");
        await app.DisposeAsync();
        await page.WaitForEventAsync("disconnect");

        await using BrowserTestApp restarted = await BrowserTestApp.StartAsync(port: port);
        await page.Page.EvaluateAsync($"() => {{ {comeBack}; }}");
        await page.WaitForEventAsync("connect", 2);
        Assert.Equal(["connect", "disconnect:3", "reconnectAttempts:1", "reconnect:1", "connect"], await page.EventNamesAsync());
    }

    [ChromiumFact]
    public async Task A_page_that_goes_away_closes_its_connection_cleanly()
    {
        await using BrowserTestApp app = await BrowserTestApp.StartAsync();
        (HarnessPage page, string id) = await ConnectedPageAsync(app);

        await page.Page.GotoAsync("about:blank");
        Assert.Equal(DisconnectReason.ClientDisconnect, await app.Connections.WaitForDisconnectAsync(id));
    }

    [ChromiumFact]
    public async Task A_CSharp_client_and_a_page_in_one_room_exchange_messages()
    {
        await using BrowserTestApp app = await BrowserTestApp.StartAsync();
        HarnessPage page = await HarnessPage.OpenAsync(browser, app.Origin);
        await page.ConnectAsync("room1");
        await using Connection dotnet = await new Client.Client(app.RealtimeUrl).ConnectAsync("room1");
        var fromPage = new ConnectionRecorder(dotnet);
        await app.Connections.WaitForOpenCountAsync(2);

        await page.RunAsync("connection.send({ text: 'from the page' }, 'chat'); connection.send(new Uint8Array([1, 2, 3]), 'bytes')");
        await fromPage.WaitForEventAsync("message:bytes");
        Message[] got = [.. fromPage.Messages];
        Assert.Equal("chat", got[0].Type);
        Assert.Equal("from the page", got[0].Data.GetProperty("text").GetString());
        Assert.True(got[1].IsBinary);
        Assert.Equal([1, 2, 3], got[1].Bytes.ToArray());

        dotnet.Send(new { text = "from C#" }, "chat");
        dotnet.Send(new byte[] { 9, 8 }, "bytes");
        await page.WaitForEventAsync("message", 2);
        string[] atPage = [.. (await page.EventsAsync()).Where(e => e.Name == "message").Select(e => $"{e.Args[0].GetRawText()} | {e.Args[1].GetRawText()}")];
        Assert.Equal(["{\"text\":\"from C#\"} | \"chat\"", "{\"binary\":[9,8]} | \"bytes\""], atPage);
    }
}
