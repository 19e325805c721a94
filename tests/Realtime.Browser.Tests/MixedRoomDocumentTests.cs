using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Realtime.Client;
using Realtime.Server;
using Realtime.Testing;
using Realtime.TestSupport;
using Xunit.Abstractions;

namespace Realtime.Browser.Tests;

/// <summary>
/// One room, one document, three kinds of editor at once on one server: the browser client's <c>SharedDoc</c> with ot-json0 from npm
/// in headless Chromium, the C# <see cref="SharedDocument"/> with <see cref="OtTypes.Json0"/> over protocol v1, and a client of the
/// compatibility endpoint sending the original's raw <c>ot-doc</c> frames and transforming nothing itself.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class MixedRoomDocumentTests(BrowserFixture browser, ITestOutputHelper output)
{
    private const int Rounds = 5;
    private const int EditsPerRound = 4;
    private const int EditsEach = Rounds * EditsPerRound;

    /// <summary>The test app with documents (json0 only), the compatibility endpoint beside protocol v1, and the ot-json0 module for the page.</summary>
    private static Task<BrowserTestApp> StartAsync() => BrowserTestApp.StartAsync(
        configureServer: server => server.UseDocuments().On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message)),
        mapEndpoints: app =>
        {
            BrowserDocumentAssets.Map(app);
            app.MapJsCollaboration(KestrelRealtimeHost.CollaborationPath);
        });

    [ChromiumFact]
    public async Task A_browser_a_csharp_client_and_a_compatibility_wire_client_editing_at_once_converge_on_one_document()
    {
        await using BrowserTestApp app = await StartAsync();
        const string Room = "mixed1";
        string collaborationUrl = $"ws://127.0.0.1:{app.Port}{KestrelRealtimeHost.CollaborationPath}";

        // The C# client creates the document; the page and the compatibility client subscribe to it.
        await using Connection connection = await new Client.Client(app.RealtimeUrl).ConnectAsync(Room).DefaultTimeout("the C# connection");
        using var csharp = new SharedDocument(connection, OtTypes.Json0);
        var csharpOps = new WatchedList<string>();
        csharp.On(SharedDocumentEvents.Op, e => csharpOps.Add(e.Op.ToJsonString()));
        await csharp.SubscribeAsync().DefaultTimeout("the C# subscribe");
        await csharp.CreateAsync(JsonNode.Parse("""{"list":[],"n":0,"s":""}""")).DefaultTimeout("the C# create");

        HarnessPage page = await HarnessPage.OpenAsync(browser, app.Origin);
        await page.ConnectAsync(Room);
        await page.DocumentAsync();
        await page.WaitForEventAsync("connect");
        await app.Connections.WaitAsync(await page.GetAsync<string>("connection.id"));
        await page.RunAsync("return doc.subscribe()");
        Assert.Equal(1, await page.GetAsync<int>("doc.version"));

        await using CompatibilityDocumentClient wire = await CompatibilityDocumentClient.ConnectAsync(collaborationUrl, Room);
        try
        {
            JsonElement subscribed = await wire.SubscribeAsync();
            Assert.Equal(1, subscribed.GetProperty("v").GetInt64());

            // All three at once: each inserts its items at the head of the list and its letter at the start of the text, and adds to n.
            // The page and the C# document submit in rounds of several ops without waiting (one op in flight, the rest composed; every
            // incoming op transformed against them); the wire client waits for each ack and leaves every transform to the server.
            Task browserEdits = page.RunAsync($$"""
                return (async () => {
                  for (let r = 0; r < {{Rounds}}; r++) {
                    const ops = [];
                    for (let i = r * {{EditsPerRound}}; i < (r + 1) * {{EditsPerRound}}; i++) {
                      ops.push(doc.submitOp([{ p: ['list', 0], li: 'browser' + i }, { p: ['n'], na: 1 }, { p: ['s', 0], si: 'b' }]));
                    }
                    await Promise.all(ops);
                  }
                })();
                """);
            Task csharpEdits = CSharpEditsAsync(csharp);
            Task<IReadOnlyList<long>> wireEdits = wire.SubmitEachAsync(Enumerable.Range(0, EditsEach).Select(
                i => $$"""[{"p":["list",0],"li":"wire{{i}}"},{"p":["n"],"na":100},{"p":["s",0],"si":"w"}]"""));
            await Task.WhenAll(browserEdits, csharpEdits, wireEdits).DefaultTimeout("every editor's acks");

            // Every op is committed: a fresh fetch over the compatibility wire is the server's document.
            await using CompatibilityDocumentClient fetcher = await CompatibilityDocumentClient.ConnectAsync(collaborationUrl, Room);
            JsonElement fetched = await fetcher.FetchAsync();
            long version = fetched.GetProperty("v").GetInt64();
            string data = fetched.GetProperty("data").GetRawText();
            Assert.Equal("http://sharejs.org/types/JSONv0", fetched.GetProperty("type").GetString());

            await page.WaitUntilAsync($"doc.version === {version}");
            await csharpOps.WaitForAsync(_ => csharp.Version == version && !csharp.HasPendingOps, $"the C# document at version {version}");
            Assert.Equal(data, await page.JsonAsync("doc.data"));
            Assert.Equal(data, csharp.Data!.ToJsonString());

            // Each item once, every add counted, every letter once.
            JsonElement document = fetched.GetProperty("data");
            string[] expectedItems = [.. new[] { "browser", "csharp", "wire" }.SelectMany(who => Enumerable.Range(0, EditsEach).Select(i => who + i)).Order(StringComparer.Ordinal)];
            Assert.Equal(expectedItems, document.GetProperty("list").EnumerateArray().Select(e => e.GetString()!).Order(StringComparer.Ordinal));
            Assert.Equal(EditsEach * 111, document.GetProperty("n").GetDouble());
            Assert.Equal(new string('b', EditsEach) + new string('c', EditsEach) + new string('w', EditsEach),
                         string.Concat(document.GetProperty("s").GetString()!.Order()));

            // The subscribed wire client heard of every version once: the others' ops as they were committed, its own as acks.
            IReadOnlyList<long> wireVersions = await wireEdits;
            var committed = wire.Received.Items
                .Where(m => m.GetProperty("a").GetInt32() == 5 && m.TryGetProperty("v", out _) && m.TryGetProperty("seq", out _) &&
                            (m.TryGetProperty("op", out _) || CompatibilityDocumentClient.Src(m) == wire.Id))
                .Select(m => (V: m.GetProperty("v").GetInt64(), Src: CompatibilityDocumentClient.Src(m), Seq: m.GetProperty("seq").GetInt32()))
                .Distinct()
                .ToList();
            Assert.Equal(LongRange(1, version - 1), committed.Select(c => c.V).Order());
            Assert.Equal(wireVersions, committed.Where(c => c.Src == wire.Id).Select(c => c.V));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"version {version}: {wireVersions.Count} ops of the wire client, {committed.Count(c => c.Src != wire.Id)} of the page and the C# client (composed)"));
        }
        finally
        {
            output.WriteLine("The compatibility client's frames:");
            foreach (string line in wire.Transcript)
            {
                output.WriteLine(line);
            }

            output.WriteLine("The page's document events: " + string.Join(", ", (await page.EventNamesAsync()).Where(e => e.StartsWith("doc.", StringComparison.Ordinal))));
            output.WriteLine("The C# document's op events: " + string.Join(", ", csharpOps.Items));
            await page.Page.Context.CloseAsync();
        }
    }

    private static async Task CSharpEditsAsync(SharedDocument doc)
    {
        for (int r = 0; r < Rounds; r++)
        {
            await Task.WhenAll(Enumerable.Range(r * EditsPerRound, EditsPerRound).Select(i => doc.SubmitOpAsync(
                JsonNode.Parse($$"""[{"p":["list",0],"li":"csharp{{i}}"},{"p":["n"],"na":10},{"p":["s",0],"si":"c"}]""")!)));
        }
    }

    private static IEnumerable<long> LongRange(long from, long to)
    {
        for (long v = from; v <= to; v++)
        {
            yield return v;
        }
    }
}
