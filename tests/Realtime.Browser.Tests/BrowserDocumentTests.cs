using System.Text.Json;
using Realtime.Server;
using Realtime.Testing;
using Realtime.TestSupport;

namespace Realtime.Browser.Tests;

/// <summary>
/// The browser client's <c>SharedDoc</c> with ot-json0 (and ot-text-unicode) from npm in real headless Chromium against the real server's document
/// feature: the scenarios of tests/js-collaboration/documents.e2e.js, through the client.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserDocumentTests(BrowserFixture browser)
{
    /// <summary>
    /// The relay of the test app with documents, whose submit middleware refuses an op that sets a value "forbidden"
    /// (<c>Reject("Forbidden")</c>: code 1000) or "silent" (<c>Reject(19, …)</c>).
    /// </summary>
    private static void WithDocuments(RealtimeServer server) => server
        .UseDocuments(o => o.AddType(OtTypes.TextUnicode).Use(DocumentAction.Submit, async (ctx, next) =>
        {
            string request = ctx.Request.GetRawText();
            if (request.Contains("\"oi\":\"forbidden\"", StringComparison.Ordinal))
            {
                ctx.Reject("Forbidden");
                return;
            }

            if (request.Contains("\"oi\":\"silent\"", StringComparison.Ordinal))
            {
                ctx.Reject(19, "Op submit rejected");
                return;
            }

            await next();
        }))
        .On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message));

    private static Task<BrowserTestApp> StartAsync() => BrowserTestApp.StartAsync(configureServer: WithDocuments, mapEndpoints: BrowserDocumentAssets.Map);

    /// <summary>A harness page with a connection to <paramref name="room"/> (known to the server) and a SharedDoc on it.</summary>
    private async Task<HarnessPage> DocumentPageAsync(BrowserTestApp app, string room, string? origin = null, object? clientOptions = null)
    {
        HarnessPage page = await HarnessPage.OpenAsync(browser, origin ?? app.Origin);
        await page.ConnectAsync(room, clientOptions);
        await page.DocumentAsync();
        await page.WaitForEventAsync("connect");
        await app.Connections.WaitAsync(await page.GetAsync<string>("connection.id"));
        return page;
    }

    /// <summary>A page whose document is subscribed.</summary>
    private async Task<HarnessPage> SubscribedPageAsync(BrowserTestApp app, string room, string? origin = null, object? clientOptions = null)
    {
        HarnessPage page = await DocumentPageAsync(app, room, origin, clientOptions);
        await page.RunAsync("return doc.subscribe()");
        return page;
    }

    /// <summary>The document as a new page fetches it now: <c>{v, data}</c> as JSON text.</summary>
    private async Task<string> FetchedAsync(BrowserTestApp app, string room)
    {
        HarnessPage page = await DocumentPageAsync(app, room);
        await page.RunAsync("return doc.fetch()");
        string json = await page.JsonAsync("{ v: doc.version, data: doc.data }");
        await page.Page.CloseAsync();
        return json;
    }

    private static async Task<string[]> DocEventsAsync(HarnessPage page)
        => [.. (await page.EventNamesAsync()).Where(e => e.StartsWith("doc.", StringComparison.Ordinal))];

    [ChromiumFact]
    public async Task A_document_created_in_one_page_is_fetched_and_subscribed_by_another_and_follows_its_ops()
    {
        await using BrowserTestApp app = await StartAsync();
        HarnessPage bob = await SubscribedPageAsync(app, "doc1");
        Assert.Equal("""{"v":0}""", await bob.JsonAsync("{ v: doc.version, type: doc.type, data: doc.data }"));
        HarnessPage ann = await DocumentPageAsync(app, "doc1");
        await ann.RunAsync("return doc.create({ title: 'hello', list: [] }, 'json0')");
        Assert.Equal(1, await ann.GetAsync<int>("doc.version"));
        await bob.WaitUntilAsync("doc.version === 1");
        Assert.Equal("""{"title":"hello","list":[]}""", await bob.JsonAsync("doc.data"));
        Assert.Equal("http://sharejs.org/types/JSONv0", await bob.GetAsync<string>("doc.type.uri"));

        await ann.RunAsync("return Promise.all([doc.submitOp([{ p: ['list', 0], li: 'a' }]), doc.submitOp([{ p: ['title', 5], si: ' world' }])])");
        await bob.WaitUntilAsync("doc.version === 3");
        Assert.Equal("""{"title":"hello world","list":["a"]}""", await bob.JsonAsync("doc.data"));
        Assert.Equal(["doc.load", "doc.create:false", """doc.beforeOp:[{"p":["list",0],"li":"a"}]""", """doc.op:[{"p":["list",0],"li":"a"}]""",
                      """doc.beforeOp:[{"p":["title",5],"si":" world"}]""", """doc.op:[{"p":["title",5],"si":" world"}]"""], await DocEventsAsync(bob));
        Assert.Equal("""{"v":3,"data":{"title":"hello world","list":["a"]}}""", await FetchedAsync(app, "doc1"));
    }

    [ChromiumFact]
    public async Task Two_pages_editing_at_once_converge_on_the_servers_document()
    {
        await using BrowserTestApp app = await StartAsync();
        HarnessPage ann = await SubscribedPageAsync(app, "doc2");
        await ann.RunAsync("return doc.create({ list: [], n: 0, s: '' }, 'json0')");
        HarnessPage bob = await SubscribedPageAsync(app, "doc2");

        // Each submits 30 ops without waiting: one in flight, the rest composed, and every incoming op transformed.
        const string edits = """
            const ops = [];
            for (let i = 0; i < 30; i++) {
              ops.push(doc.submitOp([{ p: ['list', 0], li: who + i }, { p: ['n'], na: 1 }, { p: ['s', doc.data.s.length], si: who }]));
            }
            return Promise.all(ops);
            """;
        await Task.WhenAll(ann.RunAsync("const who = 'a';" + edits), bob.RunAsync("const who = 'b';" + edits));
        string fetched = await FetchedAsync(app, "doc2");
        using JsonDocument server = JsonDocument.Parse(fetched);
        int version = server.RootElement.GetProperty("v").GetInt32();
        await ann.WaitUntilAsync($"doc.version === {version}");
        await bob.WaitUntilAsync($"doc.version === {version}");
        string data = server.RootElement.GetProperty("data").GetRawText();
        Assert.Equal(data, await ann.JsonAsync("doc.data"));
        Assert.Equal(data, await bob.JsonAsync("doc.data"));
        Assert.Equal(60, server.RootElement.GetProperty("data").GetProperty("n").GetInt32());
        Assert.Equal(60, server.RootElement.GetProperty("data").GetProperty("list").GetArrayLength());
        Assert.Equal(60, server.RootElement.GetProperty("data").GetProperty("s").GetString()!.Length);
        Assert.True(version < 61, $"the ops were composed while one was in flight: version {version}");
    }

    [ChromiumFact]
    public async Task A_fetch_brings_a_loaded_document_up_to_date_with_the_ops_since_its_version()
    {
        await using BrowserTestApp app = await StartAsync();
        HarnessPage ann = await DocumentPageAsync(app, "doc3");
        await ann.RunAsync("return doc.create({ n: 0 }, 'json0')");
        HarnessPage bob = await DocumentPageAsync(app, "doc3");
        await bob.RunAsync("return doc.fetch()");
        await ann.RunAsync("return Promise.all([1, 2, 3].map((n) => doc.submitOp([{ p: ['n'], na: n }])))");
        await ann.RunAsync("return doc.submitOp([{ p: ['n'], na: 4 }])"); // a second op after the first ack: two versions at least
        Assert.Equal(1, await bob.GetAsync<int>("doc.version"));
        await bob.RunAsync("return doc.fetch()");
        Assert.Equal(await ann.GetAsync<int>("doc.version"), await bob.GetAsync<int>("doc.version"));
        Assert.Equal("""{"n":10}""", await bob.JsonAsync("doc.data"));
        Assert.Contains("doc.op:[{\"p\":[\"n\"],\"na\":4}]", await DocEventsAsync(bob));
    }

    [ChromiumFact]
    public async Task History_snapshots_and_restore_and_del()
    {
        await using BrowserTestApp app = await StartAsync();
        HarnessPage ann = await SubscribedPageAsync(app, "doc4");
        await ann.RunAsync("return doc.create({ n: 0 }, 'json0')");
        await ann.RunAsync("return doc.submitOp([{ p: ['n'], na: 1 }])");
        await ann.RunAsync("return doc.submitOp([{ p: ['n'], na: 1 }])");
        HarnessPage bob = await SubscribedPageAsync(app, "doc4");

        Assert.Equal("""{"id":"doc4","v":2,"type":"http://sharejs.org/types/JSONv0","data":{"n":1}}""", await HistoryAsync(bob, 2));
        string beyond = await bob.GetAsync<string>("doc.fetchHistorySnapshot({ version: 10 }).then(() => 'resolved', (e) => e.code + ' ' + e.message)");
        Assert.Equal("17 Requested version exceeds latest snapshot version", beyond);

        await ann.RunAsync("return doc.restore(2)");
        Assert.Equal(4, await ann.GetAsync<int>("doc.version"));
        await bob.WaitUntilAsync("doc.version === 4");
        Assert.Equal("""{"n":1}""", await bob.JsonAsync("doc.data"));
        Assert.Contains("doc.restore:2", await DocEventsAsync(bob));
        Assert.Equal("""{"id":"doc4","v":3,"type":"http://sharejs.org/types/JSONv0","data":{"n":2}}""", await HistoryAsync(bob, 3));

        await bob.RunAsync("return doc.del()");
        await ann.WaitUntilAsync("doc.type === undefined");
        Assert.Contains("doc.del:{\"n\":1}", await DocEventsAsync(ann));
        Assert.Equal("""{"v":0}""", await FetchedAsync(app, "doc4"));
    }

    private static Task<string> HistoryAsync(HarnessPage page, int version)
        => page.GetAsync<string>($"doc.fetchHistorySnapshot({{ version: {version} }}).then((s) => JSON.stringify(s))");

    [ChromiumFact]
    public async Task A_refused_op_is_rolled_back_with_an_error_and_code_19_is_rolled_back_silently()
    {
        await using BrowserTestApp app = await StartAsync();
        HarnessPage ann = await SubscribedPageAsync(app, "doc5");
        await ann.RunAsync("return doc.create({ s: 'ok', n: 0 }, 'json0')");
        string refused = await ann.GetAsync<string>("""
            (() => {
              const refused = doc.submitOp([{ p: ['s'], od: 'ok', oi: 'forbidden' }]);
              const queued = doc.submitOp([{ p: ['n'], na: 1 }]);
              return Promise.all([refused.then(() => 'resolved', (e) => e.code + ' ' + e.message), queued]).then(([r]) => r);
            })()
            """);
        Assert.Equal("1000 Forbidden", refused);
        Assert.Equal("""{"s":"ok","n":1}""", await ann.JsonAsync("doc.data"));
        Assert.Contains("""doc.error:{"code":1000,"message":"Forbidden"}""", await DocEventsAsync(ann));

        Assert.Equal("resolved", await ann.GetAsync<string>("doc.submitOp([{ p: ['s'], od: 'ok', oi: 'silent' }]).then(() => 'resolved', (e) => e.code)"));
        Assert.Equal("""{"s":"ok","n":1}""", await ann.JsonAsync("doc.data"));
        Assert.Single(await DocEventsAsync(ann), e => e.StartsWith("doc.error", StringComparison.Ordinal));
        Assert.Equal("""doc.op:[{"p":["s"],"od":"silent","oi":"ok"}]""", (await DocEventsAsync(ann))[^1]);
        Assert.Equal("""{"v":2,"data":{"s":"ok","n":1}}""", await FetchedAsync(app, "doc5"));

        // The server's other codes reach the page too: a create on an existing document.
        HarnessPage bob = await DocumentPageAsync(app, "doc5");
        Assert.Equal("0", await bob.GetAsync<string>("doc.create({}, 'json0').then(() => 'resolved', (e) => String(e.code))"));
    }

    [ChromiumFact]
    public async Task Through_a_lost_ack_and_offline_edits_the_page_keeps_its_document_without_losing_or_doubling_an_op()
    {
        await using BrowserTestApp app = await StartAsync();
        await using FaultProxy proxy = await FaultProxy.StartAsync(new Uri(app.RealtimeUrl));
        HarnessPage ann = await SubscribedPageAsync(app, "doc6");
        await ann.RunAsync("return doc.create({ n: 0, list: [] }, 'json0')");
        // Attempts time out after 1 s, so that reconnection waits for the proxy to heal.
        HarnessPage bob = await SubscribedPageAsync(app, "doc6", $"http://127.0.0.1:{proxy.Port}", new { reconnectionDelay = 50, reconnectionDelayMax = 200, timeout = 1000 });
        string bobId = await bob.GetAsync<string>("connection.id");

        // Bob's op is committed, but its ack is lost with the connection.
        proxy.Blackhole(FaultDirection.ServerToClient);
        await bob.RunAsync("window.lost = doc.submitOp([{ p: ['n'], na: 1 }])");
        await ann.WaitUntilAsync("doc.data.n === 1");
        proxy.Blackhole(FaultDirection.Both);
        proxy.ResetConnections();
        await bob.WaitForEventAsync("disconnect");

        // Offline: bob edits (composed into one op), and ann's edit is committed meanwhile.
        await bob.RunAsync("window.offline = [doc.submitOp([{ p: ['n'], na: 10 }]), doc.submitOp([{ p: ['list', 0], li: 'b' }])]");
        await ann.RunAsync("return doc.submitOp([{ p: ['list', 0], li: 'a' }, { p: ['n'], na: 100 }])");
        proxy.Heal();
        await bob.WaitForEventAsync("connect", 2);
        Assert.NotEqual(bobId, await bob.GetAsync<string>("connection.id"));
        await bob.RunAsync("return Promise.all([window.lost, ...window.offline])");

        string fetched = await FetchedAsync(app, "doc6");
        // create, bob's lost op (applied once), ann's op, bob's offline ops composed into one (the later op goes first in a tie).
        Assert.Equal("""{"v":4,"data":{"n":111,"list":["b","a"]}}""", fetched);
        await ann.WaitUntilAsync("doc.version === 4");
        await bob.WaitUntilAsync("doc.version === 4");
        Assert.Equal("""{"n":111,"list":["b","a"]}""", await ann.JsonAsync("doc.data"));
        Assert.Equal("""{"n":111,"list":["b","a"]}""", await bob.JsonAsync("doc.data"));
        Assert.True(await bob.GetAsync<bool>("doc.subscribed"));
    }

    [ChromiumFact]
    public async Task Two_pages_typing_into_one_text_with_ot_text_unicode_converge()
    {
        await using BrowserTestApp app = await StartAsync();
        HarnessPage ann = await SubscribedPageAsync(app, "text1");
        await ann.RunAsync("return doc.create('hello', 'text-unicode')");
        HarnessPage bob = await SubscribedPageAsync(app, "text1");
        Assert.Equal("http://sharejs.org/types/text-unicode", await bob.GetAsync<string>("doc.type.uri"));

        // Both type at once: ann at the end, bob at the start, with characters outside the BMP (offsets count code points).
        const string typing = """
            const ops = [];
            for (let i = 0; i < 20; i++) ops.push(doc.submitOp(atEnd ? [[...doc.data].length, text] : [text]));
            return Promise.all(ops);
            """;
        await Task.WhenAll(ann.RunAsync("const atEnd = true; const text = 'a😀';" + typing), bob.RunAsync("const atEnd = false; const text = 'b';" + typing));
        string fetched = await FetchedAsync(app, "text1");
        using JsonDocument server = JsonDocument.Parse(fetched);
        int version = server.RootElement.GetProperty("v").GetInt32();
        await ann.WaitUntilAsync($"doc.version === {version}");
        await bob.WaitUntilAsync($"doc.version === {version}");
        string text = server.RootElement.GetProperty("data").GetString()!;
        Assert.Equal(new string('b', 20) + "hello" + string.Concat(Enumerable.Repeat("a😀", 20)), text);
        Assert.Equal(text, await ann.GetAsync<string>("doc.data"));
        Assert.Equal(text, await bob.GetAsync<string>("doc.data"));
    }
}
