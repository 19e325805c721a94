using Realtime.Server;
using Realtime.Testing;
using Realtime.TestSupport;

namespace Realtime.Browser.Tests;

/// <summary>The browser client's <c>Presence</c> in real headless Chromium against the real server's presence feature.</summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserPresenceTests(BrowserFixture browser)
{
    private static readonly object FastRetry = new { reconnectionDelay = 50, reconnectionDelayMax = 200 };

    /// <summary>The relay of the test app, with the presence feature.</summary>
    private static void WithPresence(RealtimeServer server)
        => server.UsePresence().On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message));

    /// <summary>A harness page with a connection to room1 (known to the server) and a subscribed Presence on it.</summary>
    private async Task<(HarnessPage Page, string Id)> SubscribedPageAsync(BrowserTestApp app, string? origin = null, object? clientOptions = null, object? presenceOptions = null)
    {
        HarnessPage page = await HarnessPage.OpenAsync(browser, origin ?? app.Origin);
        await page.ConnectAsync("room1", clientOptions);
        await page.PresenceAsync(presenceOptions);
        await page.WaitForEventAsync("connect");
        string id = await page.GetAsync<string>("connection.id");
        await app.Connections.WaitAsync(id);
        await page.RunAsync("return presence.subscribe()");
        return (page, id);
    }

    private static string JsonString(string value) => System.Text.Json.JsonSerializer.Serialize(value);

    /// <summary>The argument of the <paramref name="nth"/> (from 1) <paramref name="name"/> event, as JSON text.</summary>
    private static async Task<string> ArgumentAsync(HarnessPage page, string name, int nth = 1)
    {
        await page.WaitForEventAsync(name, nth);
        return (await page.EventsAsync()).Where(e => e.Name == name).ElementAt(nth - 1).Args[0].GetRawText();
    }

    [ChromiumFact]
    public async Task Two_pages_see_each_others_states_added_updated_and_removed_and_a_late_joiner_gets_them_all()
    {
        await using BrowserTestApp app = await BrowserTestApp.StartAsync(configureServer: WithPresence);
        (HarnessPage ann, string annId) = await SubscribedPageAsync(app);
        (HarnessPage bob, string bobId) = await SubscribedPageAsync(app);
        Assert.Equal("{}", await bob.JsonAsync("presence.otherStates"));

        await ann.RunAsync("presence.submitLocalState({ name: 'ann' })");
        Assert.Equal($$$"""{"{{{annId}}}":{"name":"ann"}}""", await ArgumentAsync(bob, "presence.add"));
        await bob.RunAsync("presence.submitLocalState({ name: 'bob' })");
        Assert.Equal($$$"""{"{{{bobId}}}":{"name":"bob"}}""", await ArgumentAsync(ann, "presence.add"));

        await bob.RunAsync("presence.submitLocalStateField('cursor', { x: 0.25, y: 0.5 })");
        Assert.Equal($$$$"""{"{{{{bobId}}}}":{"name":"bob","cursor":{"x":0.25,"y":0.5}}}""", await ArgumentAsync(ann, "presence.update"));
        Assert.Equal("""{"name":"bob","cursor":{"x":0.25,"y":0.5}}""", await bob.JsonAsync("presence.localState"));
        await bob.RunAsync("presence.submitLocalState({ name: 'bob', away: true })");
        Assert.Equal($$$"""{"{{{bobId}}}":{"name":"bob","away":true}}""", await ArgumentAsync(ann, "presence.update", 2));

        (HarnessPage carol, _) = await SubscribedPageAsync(app);
        string[] lateJoiner = [$$$"""{{{JsonString(annId)}}}:{"name":"ann"}""", $$$"""{{{JsonString(bobId)}}}:{"name":"bob","away":true}"""];
        Array.Sort(lateJoiner, StringComparer.Ordinal); // the ids sort as the page sorts them (the server's order is its own)
        Assert.Equal("{" + string.Join(',', lateJoiner) + "}", await carol.JsonAsync("Object.fromEntries(Object.entries(presence.otherStates).sort(([a], [b]) => (a < b ? -1 : 1)))"));

        await bob.RunAsync("presence.removeLocalState()");
        Assert.Equal($"""["{bobId}"]""", await ArgumentAsync(ann, "presence.remove"));
        Assert.Equal($"""["{bobId}"]""", await ArgumentAsync(carol, "presence.remove"));
        Assert.Equal("{}", await ann.JsonAsync("presence.otherStates"));
        Assert.Equal($$$"""{"{{{annId}}}":{"name":"ann"}}""", await bob.JsonAsync("presence.otherStates"));

        // No echo: each page heard only the others.
        Assert.Equal(["presence.add", "presence.update", "presence.update", "presence.remove"], (await ann.EventsAsync()).Select(e => e.Name).Where(n => n.StartsWith("presence.", StringComparison.Ordinal)));
        Assert.Equal(["presence.add"], (await bob.EventsAsync()).Select(e => e.Name).Where(n => n.StartsWith("presence.", StringComparison.Ordinal)));
    }

    [ChromiumFact]
    public async Task A_page_that_closes_is_removed_from_the_others()
    {
        await using BrowserTestApp app = await BrowserTestApp.StartAsync(configureServer: WithPresence);
        (HarnessPage ann, _) = await SubscribedPageAsync(app);
        (HarnessPage bob, string bobId) = await SubscribedPageAsync(app);
        await bob.RunAsync("presence.submitLocalState({ name: 'bob' })");
        await ann.WaitForEventAsync("presence.add");

        await bob.Page.CloseAsync();
        Assert.Equal($"""["{bobId}"]""", await ArgumentAsync(ann, "presence.remove"));
        Assert.Equal("{}", await ann.JsonAsync("presence.otherStates"));
    }

    [ChromiumFact]
    public async Task After_a_transport_drop_restoreOnReconnect_brings_the_state_back_under_the_new_id_and_without_it_nothing_is_sent()
    {
        await using BrowserTestApp app = await BrowserTestApp.StartAsync(configureServer: WithPresence);
        await using FaultProxy proxy = await FaultProxy.StartAsync(new Uri(app.RealtimeUrl));
        string proxied = $"http://127.0.0.1:{proxy.Port}";
        (HarnessPage ann, string annId) = await SubscribedPageAsync(app);
        await ann.RunAsync("presence.submitLocalState({ name: 'ann' })");
        (HarnessPage bob, string bobId) = await SubscribedPageAsync(app, proxied, FastRetry, new { restoreOnReconnect = true });
        await bob.RunAsync("presence.submitLocalState({ name: 'bob' })");
        (HarnessPage carol, string carolId) = await SubscribedPageAsync(app, proxied, FastRetry);
        await carol.RunAsync("presence.submitLocalState({ name: 'carol' })");
        await ann.WaitForEventAsync("presence.add", 2);

        proxy.ResetConnections(); // bob's and carol's sockets end abruptly; ann's does not go through the proxy
        await bob.WaitForEventAsync("connect", 2);
        await carol.WaitForEventAsync("connect", 2);
        string bobAgain = await bob.GetAsync<string>("connection.id");
        Assert.NotEqual(bobId, bobAgain);

        // Bob: removed under the old id, added under the new one, and subscribed again (his view is right again).
        Assert.Equal($$$"""{"{{{bobAgain}}}":{"name":"bob"}}""", await ArgumentAsync(ann, "presence.add", 3));
        await ann.WaitUntilAsync($"presence.otherStates['{bobId}'] === undefined && presence.otherStates['{carolId}'] === undefined");
        await bob.WaitUntilAsync($$$"""JSON.stringify(presence.otherStates) === '{"{{{annId}}}":{"name":"ann"}}'""");
        Assert.Equal("""{"name":"bob"}""", await bob.JsonAsync("presence.localState"));

        // Carol (the original's behaviour): nothing was sent for her. Her relayed message comes after anything her
        // reconnection sent, so once it is at ann's, a restore would have been too.
        await carol.RunAsync("connection.send('after the drop', 'barrier')");
        await ann.WaitForEventAsync("message");
        Assert.Equal(3, (await ann.EventsAsync()).Count(e => e.Name == "presence.add"));
        Assert.Equal($$$"""{"{{{bobAgain}}}":{"name":"bob"}}""", await ann.JsonAsync("presence.otherStates"));
        Assert.Equal("""{"name":"carol"}""", await carol.JsonAsync("presence.localState"));
    }
}
