using System.Diagnostics;
using Realtime.TestSupport;

namespace Realtime.Browser.Tests;

/// <summary>
/// Where the real components are: Debian's Chromium and Node.js. A test that needs one is skipped with a message saying
/// what to install when it is absent, unless <c>REALTIME_REQUIRE_BROWSER=1</c> (set by CI) makes that a failure.
/// </summary>
internal static class Requirements
{
    public const string RequireVariable = "REALTIME_REQUIRE_BROWSER";

    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    /// <summary>The Chromium executable: <c>REALTIME_CHROMIUM</c>, or Debian's <c>/usr/bin/chromium</c>.</summary>
    public static string? Chromium { get; } = FindChromium();

    /// <summary>The Node.js executable (20 or later): <c>REALTIME_NODE</c>, or <c>node</c> on the PATH.</summary>
    public static string? Node { get; } = FindNode();

    public const string ChromiumMissing =
        "Chromium is not installed: install Debian's chromium package (apt-get install -y chromium) or set REALTIME_CHROMIUM to a Chromium executable.";

    public const string NodeMissing = "Node.js 20 or later is not installed: install it (apt-get install -y nodejs npm) or set REALTIME_NODE to a node executable.";

    /// <summary>The browser client's package folder (src/Client/realtime-client-js).</summary>
    public static string ClientPackage => RepositoryPaths.BrowserClient;

    private static string? FindChromium()
    {
        string? configured = Environment.GetEnvironmentVariable("REALTIME_CHROMIUM");
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(configured) ? configured : null;
        }

        return new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists);
    }

    private static string? FindNode()
    {
        string? configured = Environment.GetEnvironmentVariable("REALTIME_NODE");
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(configured) ? configured : null;
        }

        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            string candidate = Path.Combine(dir, OperatingSystem.IsWindows() ? "node.exe" : "node");
            if (File.Exists(candidate) && MajorVersion(candidate) >= 20)
            {
                return candidate;
            }
        }

        return null;
    }

    private static int MajorVersion(string node)
    {
        try
        {
            using Process process = Process.Start(new ProcessStartInfo(node, "--version") { RedirectStandardOutput = true, UseShellExecute = false })!;
            string version = process.StandardOutput.ReadToEnd().Trim().TrimStart('v');
            process.WaitForExit(10_000);
            return int.TryParse(version.Split('.')[0], out int major) ? major : 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return 0;
        }
    }
}

/// <summary>A test in real Chromium: skipped (with what to install) where Chromium is absent, unless CI requires it.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (Requirements.Chromium is null && !Requirements.Required)
        {
            Skip = Requirements.ChromiumMissing;
        }
    }
}

/// <summary>A test that runs Node.js: skipped (with what to install) where it is absent, unless CI requires it.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NodeFactAttribute : FactAttribute
{
    public NodeFactAttribute()
    {
        if (Requirements.Node is null && !Requirements.Required)
        {
            Skip = Requirements.NodeMissing;
        }
    }
}

/// <summary>
/// A test that runs Node.js with socket.io-client installed in tests/js-collaboration: skipped (with what to run) where either is
/// absent, unless CI requires it.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class SocketIoClientFactAttribute : FactAttribute
{
    public SocketIoClientFactAttribute()
    {
        if (Requirements.Required)
        {
            return;
        }

        if (Requirements.Node is null)
        {
            Skip = Requirements.NodeMissing;
        }
        else if (!Directory.Exists(Path.Combine(RepositoryPaths.JsCollaborationTests, "node_modules", "socket.io-client")))
        {
            Skip = "socket.io-client is not installed: run 'npm ci' in tests/js-collaboration (Node.js and npm needed).";
        }
    }
}

/// <summary>A theory in real Chromium: skipped (with what to install) where Chromium is absent, unless CI requires it.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ChromiumTheoryAttribute : TheoryAttribute
{
    public ChromiumTheoryAttribute()
    {
        if (Requirements.Chromium is null && !Requirements.Required)
        {
            Skip = Requirements.ChromiumMissing;
        }
    }
}
