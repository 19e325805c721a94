using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using Realtime.TestSupport;

namespace Realtime.Browser.Tests;

/// <summary>The host's own app (its Program, wwwroot, relay and presence feature) on a real Kestrel port, and its demo page in two pages.</summary>
[Collection(BrowserCollection.Name)]
public sealed class DemoPageTests(BrowserFixture browser)
{
    [ChromiumFact]
    public async Task Two_pages_in_one_room_see_each_other_in_the_member_list_a_chat_line_and_a_cursor_and_a_leave()
    {
        var logs = new LogSink();
        await using var host = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.UseSetting("Realtime:Documents:Store", "memory").ConfigureLogging(l => l.AddProvider(logs)));
        host.UseKestrel(0);
        host.StartServer();
        string origin = host.ClientOptions.BaseAddress.GetLeftPart(UriPartial.Authority);

        IPage ann = await JoinAsync(origin, "ann");
        IPage bob = await JoinAsync(origin, "bob");

        // Each sees the other in the member list, which is Presence: an entry per connection id, named by its state.
        await Expect(ann, "#members li:not(.me)", "bob");
        await Expect(bob, "#members li:not(.me)", "ann");
        string annId = await IdAsync(ann);
        string bobId = await IdAsync(bob);
        await Assertions.Expect(ann.Locator("#members li:not(.me)")).ToHaveAttributeAsync("data-member", bobId);
        await Assertions.Expect(bob.Locator("#members li:not(.me)")).ToHaveAttributeAsync("data-member", annId);

        await ann.FillAsync("#line", "hello from ann");
        await ann.PressAsync("#line", "Enter");
        await Expect(bob, "#chat li:not(.system)", "ann: hello from ann");

        await bob.Mouse.MoveAsync(300, 250);
        await bob.Mouse.MoveAsync(320, 260, new MouseMoveOptions { Steps = 5 });
        await Expect(ann, "#board .cursor", "bob");
        await Assertions.Expect(ann.Locator("#board .cursor")).ToHaveAttributeAsync("data-member", bobId);
        await Assertions.Expect(ann.Locator("#state")).ToHaveAttributeAsync("data-state", "connected");

        string artifacts = Environment.GetEnvironmentVariable("REALTIME_ARTIFACTS") ?? Path.Combine(AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(artifacts);
        string screenshot = Path.Combine(artifacts, "demo-two-pages.png");
        await ann.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot });
        Assert.True(new FileInfo(screenshot).Length > 0);

        // Bob leaves: his state goes with his connection, so ann's list and board lose him.
        await bob.ClickAsync("#leave");
        await Expect(ann, "#chat li.system", "bob left");
        await Assertions.Expect(ann.Locator("#members li:not(.me)")).ToHaveCountAsync(0);
        await Assertions.Expect(ann.Locator("#board .cursor")).ToHaveCountAsync(0);
        logs.AssertNoUnexpectedErrors();
    }

    [ChromiumFact]
    public async Task Two_pages_edit_one_shared_list_and_each_sees_the_others_items_and_removals()
    {
        var logs = new LogSink();
        await using var host = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.UseSetting("Realtime:Documents:Store", "memory").ConfigureLogging(l => l.AddProvider(logs)));
        host.UseKestrel(0);
        host.StartServer();
        string origin = host.ClientOptions.BaseAddress.GetLeftPart(UriPartial.Authority);
        string room = "list-room-" + Guid.NewGuid().ToString("N")[..8];

        IPage ann = await JoinAsync(origin, "ann", room);
        IPage bob = await JoinAsync(origin, "bob", room);

        // Both add an item at once (concurrent inserts at the end of one list): the server transforms the later one, and both
        // pages show both items in the same order.
        await Task.WhenAll(AddAsync(ann, "milk"), AddAsync(bob, "bread"));
        foreach (IPage page in new[] { ann, bob })
        {
            await Assertions.Expect(page.Locator("#notes li")).ToHaveCountAsync(2, new LocatorAssertionsToHaveCountOptions { Timeout = 15_000 });
        }

        string annOrder = string.Join("|", await ann.Locator("#notes li span").AllTextContentsAsync());
        string bobOrder = string.Join("|", await bob.Locator("#notes li span").AllTextContentsAsync());
        Assert.Equal(annOrder, bobOrder);
        Assert.Contains("milk", annOrder, StringComparison.Ordinal);
        Assert.Contains("bread", annOrder, StringComparison.Ordinal);
        await Assertions.Expect(ann.Locator("#notes li").Filter(new LocatorFilterOptions { HasText = "bread" }).Locator("small")).ToHaveTextAsync("bob");

        // Bob removes ann's item; ann sees it go. A page that joins later loads the list as it is now.
        await bob.Locator("#notes li").Filter(new LocatorFilterOptions { HasText = "milk" }).Locator("button").ClickAsync();
        await Assertions.Expect(ann.Locator("#notes li")).ToHaveCountAsync(1, new LocatorAssertionsToHaveCountOptions { Timeout = 15_000 });
        await Assertions.Expect(ann.Locator("#notes li span")).ToHaveTextAsync("bread");
        IPage cy = await JoinAsync(origin, "cy", room);
        await Assertions.Expect(cy.Locator("#notes li span")).ToHaveTextAsync("bread", new LocatorAssertionsToHaveTextOptions { Timeout = 15_000 });
        logs.AssertNoUnexpectedErrors();
    }

    private static async Task AddAsync(IPage page, string text)
    {
        await page.FillAsync("#note", text);
        await page.PressAsync("#note", "Enter");
    }

    private async Task<IPage> JoinAsync(string origin, string name, string room = "demo-room")
    {
        IPage page = await browser.NewPageAsync();
        await page.GotoAsync(origin + "/");
        await page.FillAsync("#room", room);
        await page.FillAsync("#name", name);
        await page.ClickAsync("#join button");
        await Assertions.Expect(page.Locator("#state")).ToHaveAttributeAsync("data-state", "connected");
        return page;
    }

    /// <summary>The page's connection id, from its state badge ("connected · id").</summary>
    private static async Task<string> IdAsync(IPage page)
    {
        string text = await page.Locator("#state").TextContentAsync() ?? "";
        return text[(text.IndexOf('·', StringComparison.Ordinal) + 1)..].Trim();
    }

    private static Task Expect(IPage page, string selector, string text)
        => Assertions.Expect(page.Locator(selector).Filter(new LocatorFilterOptions { HasText = text })).ToHaveCountAsync(1, new LocatorAssertionsToHaveCountOptions { Timeout = 15_000 });
}
