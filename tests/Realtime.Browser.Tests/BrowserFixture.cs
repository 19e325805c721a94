using Microsoft.Playwright;

namespace Realtime.Browser.Tests;

/// <summary>One headless Chromium for the whole collection; each test opens its own contexts (separate cookies and storage).</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public async Task InitializeAsync()
    {
        if (Requirements.Chromium is null)
        {
            return;
        }

        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Requirements.Chromium,
            Headless = true,
            // This machine's network is closed: no background traffic, no first-run work, no sandbox as root.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-renderer-backgrounding",
                    "--disable-background-timer-throttling", "--disable-backgrounding-occluded-windows"],
        });
    }

    /// <summary>A new page in a new context; fails with the install hint when Chromium is absent (CI requires it).</summary>
    /// <param name="headers">Headers the context sends with every request (credentials of a test scheme), or <see langword="null"/>.</param>
    public async Task<IPage> NewPageAsync(IEnumerable<KeyValuePair<string, string>>? headers = null)
    {
        IBrowser browser = _browser ?? throw new InvalidOperationException(Requirements.ChromiumMissing);
        IBrowserContext context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1100, Height = 640 },
            ExtraHTTPHeaders = headers,
        });
        IPage page = await context.NewPageAsync();
        page.SetDefaultTimeout(15_000);
        return page;
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "Chromium";
}
