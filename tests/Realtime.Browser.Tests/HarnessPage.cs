using System.Text.Json;
using Microsoft.Playwright;
using Realtime.TestSupport;

namespace Realtime.Browser.Tests;

/// <summary>A page of the harness: opens browser-client connections and reads the events they recorded.</summary>
public sealed class HarnessPage(IPage page)
{
    public IPage Page { get; } = page;

    public static async Task<HarnessPage> OpenAsync(BrowserFixture browser, string origin)
    {
        IPage page = await browser.NewPageAsync();
        await page.GotoAsync(origin + "/harness.html");
        await page.WaitForFunctionAsync("() => window.ready === true");
        return new HarnessPage(page);
    }

    /// <summary>Opens a connection in the page; returns its index.</summary>
    public Task<int> ConnectAsync(string room, object? clientOptions = null, object? connectOptions = null)
        => Page.EvaluateAsync<int>("([room, o, c]) => window.connectRoom(room, o ?? {}, c ?? {})", new object?[] { room, clientOptions, connectOptions });

    /// <summary>
    /// Runs <paramref name="script"/> as the body of a function of <c>connection</c>, <c>presence</c> and <c>doc</c> (those at
    /// <paramref name="index"/>); a Promise it returns is awaited.
    /// </summary>
    public Task RunAsync(string script, int index = 0)
        => Page.EvaluateAsync($"i => {{ const connection = window.connections[i]; const presence = window.presences[i]; const doc = window.docs[i]; {script} }}", index);

    public Task<T> GetAsync<T>(string expression, int index = 0)
        => Page.EvaluateAsync<T>($"i => {{ const connection = window.connections[i]; const presence = window.presences[i]; const doc = window.docs[i]; return {expression}; }}", index);

    /// <summary>The value of <paramref name="expression"/> (of <c>connection</c>, <c>presence</c> and <c>doc</c>) as JSON text.</summary>
    public Task<string> JsonAsync(string expression, int index = 0) => GetAsync<string>($"JSON.stringify({expression})", index);

    /// <summary>Creates a <c>Presence</c> on connection <paramref name="index"/>, recording its events as <c>presence.add</c> and so on.</summary>
    public Task PresenceAsync(object? options = null, int index = 0)
        => Page.EvaluateAsync("([i, o]) => window.presenceOn(i, o ?? {})", new object?[] { index, options });

    /// <summary>Creates a <c>SharedDoc</c> (json0 and text-unicode registered) on connection <paramref name="index"/>, available to scripts as <c>doc</c>, recording its events as <c>doc.op</c> and so on.</summary>
    public Task DocumentAsync(int index = 0) => Page.EvaluateAsync("i => window.documentOn(i)", index);

    /// <summary>Waits until <paramref name="condition"/> (of <c>connection</c>, <c>presence</c> and <c>doc</c>) is true.</summary>
    public async Task WaitUntilAsync(string condition, int index = 0)
    {
        try
        {
            await Page.WaitForFunctionAsync($"i => {{ const connection = window.connections[i]; const presence = window.presences[i]; const doc = window.docs[i]; return {condition}; }}",
                                            index, new PageWaitForFunctionOptions { Timeout = (float)TaskTimeoutExtensions.DefaultTimeoutSpan.TotalMilliseconds });
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"Timed out waiting for {condition}; the events were: {string.Join(", ", await EventNamesAsync(index))}", ex);
        }
    }

    /// <summary>The events of connection <paramref name="index"/> so far.</summary>
    public async Task<IReadOnlyList<PageEvent>> EventsAsync(int index = 0)
    {
        // As JSON text: Playwright's own serialization would add reference ids ($id) to objects.
        string json = await Page.EvaluateAsync<string>("i => JSON.stringify(window.events.filter(e => e.c === i))", index);
        using JsonDocument document = JsonDocument.Parse(json);
        return [.. document.RootElement.EnumerateArray().Select(e => new PageEvent(
            e.GetProperty("name").GetString()!,
            [.. e.GetProperty("args").EnumerateArray().Select(a => a.Clone())],
            e.GetProperty("id").ValueKind == JsonValueKind.String ? e.GetProperty("id").GetString() : null,
            e.GetProperty("connected").GetBoolean(),
            e.GetProperty("recovered").GetBoolean()))];
    }

    /// <summary>The events as "name:firstArg" strings (errors are their message), the form the C# tests compare.</summary>
    public async Task<string[]> EventNamesAsync(int index = 0)
        => [.. (await EventsAsync(index)).Select(e => e.Args.Count == 0 ? e.Name : $"{e.Name}:{Show(e.Args[0])}")];

    /// <summary>Waits until connection <paramref name="index"/> has raised <paramref name="name"/> at least <paramref name="count"/> times.</summary>
    public async Task WaitForEventAsync(string name, int count = 1, int index = 0)
    {
        try
        {
            await Page.WaitForFunctionAsync("([i, name, n]) => window.events.filter(e => e.c === i && e.name === name).length >= n",
                                            new object[] { index, name, count }, new PageWaitForFunctionOptions { Timeout = (float)TaskTimeoutExtensions.DefaultTimeoutSpan.TotalMilliseconds });
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"Timed out waiting for {count}× '{name}'; the events were: {string.Join(", ", await EventNamesAsync(index))}", ex);
        }
    }

    private static string Show(JsonElement value) => value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
}

/// <summary>An event a connection of the page raised, with its <c>id</c>, <c>connected</c> and <c>recovered</c> as its handlers saw them.</summary>
public sealed record PageEvent(string Name, IReadOnlyList<JsonElement> Args, string? Id, bool Connected, bool Recovered);
