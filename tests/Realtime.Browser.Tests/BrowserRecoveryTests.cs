using System.Text.Json;
using Realtime.Server;
using Realtime.Testing;
using Realtime.TestSupport;

namespace Realtime.Browser.Tests;

/// <summary>
/// Recovery after a brief drop (docs/protocol.md §3.1) in real headless Chromium against the real server: the page's link is cut
/// through the fault proxy, the room goes on broadcasting, and the page reconnects with the previous connection's resume token.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserRecoveryTests(BrowserFixture browser)
{
    /// <summary>
    /// No reconnection by itself within a test's time: a test makes its broadcasts while the page is offline, then the page's
    /// <c>online</c> event starts the reconnection at once (the client's own path for a network that comes back).
    /// </summary>
    private static readonly object WaitForOnline = new { reconnectionDelay = 60_000, reconnectionDelayMax = 60_000, randomizationFactor = 0 };

    private static void WithRecovery(RealtimeOptions options) => options.Recovery.Enabled = true;

    /// <summary>A page loaded through <paramref name="proxy"/>, with one connection to <paramref name="room"/> that is in its room on the server.</summary>
    private async Task<(HarnessPage Page, string Id)> ConnectedPageAsync(BrowserTestApp app, FaultProxy proxy, string room)
    {
        HarnessPage page = await HarnessPage.OpenAsync(browser, $"http://127.0.0.1:{proxy.Port}");
        await page.ConnectAsync(room, WaitForOnline);
        await page.WaitForEventAsync("connect");
        string id = await page.GetAsync<string>("connection.id");
        await app.Connections.WaitAsync(id);
        return (page, id);
    }

    /// <summary>Cuts the page's link (TCP reset) and waits until both sides know: the page raised its <paramref name="drop"/>th <c>disconnect</c>.</summary>
    private static async Task DropAsync(BrowserTestApp app, FaultProxy proxy, HarnessPage page, string id, int drop)
    {
        proxy.ResetConnections();
        await page.WaitForEventAsync("disconnect", drop);
        await app.Connections.WaitForDisconnectAsync(id);
    }

    /// <summary>The network comes back: the page reconnects at once; returns the new connection's id once it is in its room.</summary>
    private static async Task<string> ComeBackAsync(BrowserTestApp app, HarnessPage page, int connects)
    {
        await page.Page.EvaluateAsync("() => window.dispatchEvent(new Event('online'))");
        await page.WaitForEventAsync("connect", connects);
        string id = await page.GetAsync<string>("connection.id");
        await app.Connections.WaitAsync(id);
        return id;
    }

    /// <summary>The messages the page received, in order: a text message as its JSON, a binary one as <c>b:</c> and its bytes.</summary>
    private static async Task<string[]> MessagesAsync(HarnessPage page)
        => [.. (await page.EventsAsync()).Where(e => e.Name == "message").Select(e => Show(e.Args[0]))];

    private static string Show(JsonElement data)
        => data.ValueKind == JsonValueKind.Object && data.TryGetProperty("binary", out JsonElement bytes)
            ? "b:" + string.Join(",", bytes.EnumerateArray().Select(b => b.GetInt32()))
            : data.GetRawText();

    /// <summary>Broadcasts n, n+1, …: every seventh as a binary message of one byte (n % 256), the others as the JSON number.</summary>
    private static string[] Broadcast(BrowserTestApp app, string room, int from, int count)
    {
        var sent = new string[count];
        for (int n = from; n < from + count; n++)
        {
            if (n % 7 == 0)
            {
                app.Server.Broadcast(room, new[] { (byte)(n % 256) }, "bin");
                sent[n - from] = $"b:{n % 256}";
            }
            else
            {
                app.Server.Broadcast(room, n, "n");
                sent[n - from] = n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return sent;
    }

    /// <summary>
    /// Waits until the page has received <paramref name="expected"/>, then broadcasts a last message and waits for it too: a message
    /// that arrived twice (a replayed one again live) would be before it, so the page's messages must be exactly these.
    /// </summary>
    private static async Task AssertReceivedExactlyAsync(BrowserTestApp app, HarnessPage page, string room, IReadOnlyList<string> expected)
    {
        await page.WaitForEventAsync("message", expected.Count);
        app.Server.Broadcast(room, "last", "n");
        await page.WaitForEventAsync("message", expected.Count + 1);
        string[] received = await MessagesAsync(page);
        Assert.Equal([.. expected, "\"last\""], received);
    }

    /// <summary>A text message of type "n" whose data is <paramref name="n"/>.</summary>
    private static Message Number(int n) => new("n", JsonSerializer.SerializeToElement(n));

    [ChromiumFact]
    public async Task The_page_offers_its_last_token_and_position_on_reconnecting_and_recovered_follows_each_welcome()
    {
        // The client's side alone, against a scripted server: the real server's side has tests of its own.
        var endpoint = new ScriptedEndpoint(async c =>
        {
            switch (c.Index)
            {
                case 0:
                    await c.WelcomeAsync("token-0", "e:0");
                    await c.MessageAsync(Number(1), "e:1");
                    await c.MessageAsync(Number(2), null); // a direct send: no position
                    await c.MessageAsync(new Message("bin", new byte[] { 3 }), "e:2");
                    break;
                case 1:
                    // Recovered: the missed broadcasts follow the welcome (text and positioned binary), then a newer one.
                    await c.WelcomeAsync("token-1", "e:2", recovered: true);
                    await c.MessageAsync(Number(4), "e:3");
                    await c.MessageAsync(new Message(null, new byte[] { 5, 5 }), "e:4");
                    await c.MessageAsync(Number(6), "e:5");
                    break;
                case 2:
                    // Not recovered, and no token: the next reconnection offers nothing.
                    await c.WelcomeAsync(recovered: false);
                    await c.MessageAsync(Number(7), null);
                    break;
                default:
                    await c.WelcomeAsync();
                    break;
            }
        });
        await using BrowserTestApp app = await BrowserTestApp.StartAsync(mapEndpoints: endpoint.Map);
        HarnessPage page = await HarnessPage.OpenAsync(browser, app.Origin);
        await page.ConnectAsync("room1", new { path = ScriptedEndpoint.Path, reconnectionDelay = 50, reconnectionDelayMax = 50 });
        await page.RunAsync("connection.once('disconnect', () => connection.send('sent while offline', 'note'))");
        // Each connection is dropped only once the page holds everything it was sent, and the server has read what the page sent
        // on it: a drop any earlier would lose frames still in flight, which is not what this test is about.
        int[] messagesBeforeDrop = [3, 6, 7];
        for (int drop = 0; drop < 3; drop++)
        {
            await page.WaitForEventAsync("message", messagesBeforeDrop[drop]);
            if (drop == 1)
            {
                await endpoint.Connections.Items[1].Received.WaitForAsync(r => r.Count == 1, "the message sent while offline");
            }

            endpoint.Connections.Items[drop].Drop();
            await page.WaitForEventAsync("connect", drop + 2);
            await endpoint.Connections.WaitForAsync(c => c.Count == drop + 2, $"connection {drop + 2}");
        }

        Assert.Equal(["1", "2", "b:3", "4", "b:5,5", "6", "7"], await MessagesAsync(page));
        string[] hellos = [.. endpoint.Connections.Items.Select(c => $"{c.Hello.Kind} recover={c.Hello.Recover} resume={c.Hello.ResumeToken} pos={c.Hello.Position}")];
        Assert.Equal(
            [
                "Hello recover=True resume= pos=",
                "Hello recover=True resume=token-0 pos=e:2",
                "Hello recover=True resume=token-1 pos=e:5",
                "Hello recover=True resume= pos=",
            ],
            hellos);

        // The message sent while offline went out after the hello of the next connection.
        ScriptedConnection second = endpoint.Connections.Items[1];
        Assert.Equal("""{"t":"msg","type":"note","data":"sent while offline"}""", second.Received.Items[0]);

        string[] lifecycle = [.. (await page.EventsAsync()).Where(e => e.Name is "connect" or "reconnect").Select(e => $"{e.Name}:{e.Recovered}")];
        Assert.Equal(["connect:False", "reconnect:True", "connect:True", "reconnect:False", "connect:False", "reconnect:False", "connect:False"], lifecycle);
    }

    // End to end with the server's history, resume tokens and replay.
    [ChromiumFact]
    public async Task A_page_whose_link_drops_gets_every_broadcast_it_missed_in_order_once_and_recovered_is_true()
    {
        var atServer = new WatchedList<string>();
        await using BrowserTestApp app = await BrowserTestApp.StartAsync(WithRecovery, s => s.On(ServerEvents.Message, ctx => atServer.Add(ctx.Message.Data.GetString()!)));
        await using FaultProxy proxy = await FaultProxy.StartAsync(new Uri(app.RealtimeUrl));
        (HarnessPage page, string firstId) = await ConnectedPageAsync(app, proxy, "doc");
        Assert.False(await page.GetAsync<bool>("connection.recovered"));

        List<string> expected = [.. Broadcast(app, "doc", 1, 3)];
        await page.WaitForEventAsync("message", 3);
        await DropAsync(app, proxy, page, firstId, drop: 1);
        await page.RunAsync("connection.send('sent while offline', 'note')");
        expected.AddRange(Broadcast(app, "doc", 4, 150));
        string secondId = await ComeBackAsync(app, page, connects: 2);
        Assert.NotEqual(firstId, secondId);
        Assert.True(await page.GetAsync<bool>("connection.recovered"));
        expected.AddRange(Broadcast(app, "doc", 154, 2));
        await AssertReceivedExactlyAsync(app, page, "doc", expected);
        expected.Add("\"last\"");

        // The message sent while offline went out after the new welcome, once.
        await atServer.WaitForAsync(s => s.Count == 1, "the message sent while offline, at the server");
        Assert.Equal(["sent while offline"], atServer.Items);

        // A second drop: the token of the reconnection's welcome is the one offered now, and recovery works again.
        await DropAsync(app, proxy, page, secondId, drop: 2);
        expected.AddRange(Broadcast(app, "doc", 156, 40));
        await ComeBackAsync(app, page, connects: 3);
        await AssertReceivedExactlyAsync(app, page, "doc", expected);

        // recovered is set before the reconnect and connect handlers run: false on the first connection, true after each drop.
        string[] lifecycle = [.. (await page.EventsAsync()).Where(e => e.Name != "message").Select(e => $"{e.Name}:{e.Recovered}")];
        Assert.Equal(
            [
                "connect:False",
                "disconnect:False", "reconnectAttempts:False", "reconnect:True", "connect:True",
                "disconnect:True", "reconnectAttempts:True", "reconnect:True", "connect:True",
            ],
            lifecycle);
    }

    // End to end: the replay covers what the room relayed from another page, without a message arriving twice.
    [ChromiumFact]
    public async Task A_page_recovers_what_another_page_sent_to_the_room_while_it_was_offline()
    {
        var relayed = new WatchedList<string>();
        await using BrowserTestApp app = await BrowserTestApp.StartAsync(WithRecovery, s => s.On(ServerEvents.Message, ctx =>
        {
            ctx.Connection.Broadcast(ctx.Message);
            relayed.Add(ctx.Message.Type ?? "");
        }));
        await using FaultProxy proxy = await FaultProxy.StartAsync(new Uri(app.RealtimeUrl));
        (HarnessPage ann, string annId) = await ConnectedPageAsync(app, proxy, "board");
        HarnessPage bob = await HarnessPage.OpenAsync(browser, app.Origin); // not through the proxy: bob stays connected
        await bob.ConnectAsync("board");
        await bob.WaitForEventAsync("connect");
        await app.Connections.WaitAsync(await bob.GetAsync<string>("connection.id"));

        await bob.RunAsync("for (let i = 1; i <= 5; i++) connection.send(i, 'stroke')");
        await ann.WaitForEventAsync("message", 5);
        await DropAsync(app, proxy, ann, annId, drop: 1);
        await bob.RunAsync("for (let i = 6; i <= 105; i++) connection.send(i, 'stroke'); connection.send(new Uint8Array([1, 2]), 'bin')");
        await relayed.WaitForAsync(r => r.Count == 106, "bob's messages relayed to the room while ann was offline");
        await ComeBackAsync(app, ann, connects: 2);

        Assert.True(await ann.GetAsync<bool>("connection.recovered"));
        await bob.RunAsync("connection.send(106, 'stroke')");
        await ann.WaitForEventAsync("message", 107);
        string[] received = await MessagesAsync(ann);
        Assert.Equal([.. Enumerable.Range(1, 105).Select(i => $"{i}"), "b:1,2", "106"], received);
    }

    // End to end: the page offers its token, and the server cannot cover the gap.
    [ChromiumFact]
    public async Task A_drop_longer_than_the_room_history_reconnects_with_recovered_false_and_only_new_messages()
    {
        await using BrowserTestApp app = await BrowserTestApp.StartAsync(o =>
        {
            o.Recovery.Enabled = true;
            o.Recovery.MaxMessages = 10;
        });
        await using FaultProxy proxy = await FaultProxy.StartAsync(new Uri(app.RealtimeUrl));
        (HarnessPage page, string id) = await ConnectedPageAsync(app, proxy, "doc");
        string[] before = Broadcast(app, "doc", 1, 2);
        await page.WaitForEventAsync("message", 2);

        await DropAsync(app, proxy, page, id, drop: 1);
        Broadcast(app, "doc", 3, 30);
        await ComeBackAsync(app, page, connects: 2);
        Assert.False(await page.GetAsync<bool>("connection.recovered"));
        PageEvent reconnect = (await page.EventsAsync()).Single(e => e.Name == "reconnect");
        Assert.False(reconnect.Recovered);

        // Nothing of the drop arrives; what the room says from now on does.
        await AssertReceivedExactlyAsync(app, page, "doc", [.. before, .. Broadcast(app, "doc", 33, 1)]);
    }

    [ChromiumFact]
    public async Task Against_a_server_that_keeps_no_history_recovered_stays_false_and_a_reconnection_behaves_as_before()
    {
        await using BrowserTestApp app = await BrowserTestApp.StartAsync();
        await using FaultProxy proxy = await FaultProxy.StartAsync(new Uri(app.RealtimeUrl));
        (HarnessPage page, string id) = await ConnectedPageAsync(app, proxy, "doc");
        string[] before = Broadcast(app, "doc", 1, 3);
        await page.WaitForEventAsync("message", 3);

        await DropAsync(app, proxy, page, id, drop: 1);
        await page.RunAsync("connection.send('sent while offline')");
        Broadcast(app, "doc", 4, 5);
        await ComeBackAsync(app, page, connects: 2);

        await AssertReceivedExactlyAsync(app, page, "doc", [.. before, .. Broadcast(app, "doc", 9, 1)]);
        Assert.All(await page.EventsAsync(), e => Assert.False(e.Recovered, e.Name));
        Assert.Equal(["connect", "message", "message", "message", "disconnect", "reconnectAttempts", "reconnect", "connect", "message", "message"],
                     (await page.EventsAsync()).Select(e => e.Name));
    }
}
