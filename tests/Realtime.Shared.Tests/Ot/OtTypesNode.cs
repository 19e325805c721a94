using System.Diagnostics;

namespace Realtime.Shared.Tests.Ot;

/// <summary>
/// Where the npm originals are for the differential tests: Node.js on the PATH (or <c>REALTIME_NODE</c>) and tests/ot-types with its
/// packages installed (<c>npm ci</c>). Absent, the tests are skipped with what to do, unless <c>REALTIME_REQUIRE_NODE=1</c> (set by CI)
/// makes that a failure.
/// </summary>
internal static class OtTypesNode
{
    public const string RequireVariable = "REALTIME_REQUIRE_NODE";

    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    /// <summary>The tests/ot-types folder (package.json, its lock, driver.mjs).</summary>
    public static string Folder { get; } = Path.Combine(FindRoot(), "tests", "ot-types");

    public static string? Node { get; } = FindNode();

    public static bool PackagesInstalled =>
        File.Exists(Path.Combine(Folder, "node_modules", "ot-json0", "package.json"))
        && File.Exists(Path.Combine(Folder, "node_modules", "ot-text-unicode", "package.json"));

    /// <summary>Why the differential tests cannot run here, or <see langword="null"/> when they can.</summary>
    public static string? Missing =>
        Node is null ? "Node.js is not installed: install it (apt-get install -y nodejs npm) or set REALTIME_NODE to a node executable, then run 'npm ci' in tests/ot-types."
        : !PackagesInstalled ? "ot-json0 and ot-text-unicode are not installed: run 'npm ci' in tests/ot-types."
        : null;

    private static string? FindNode()
    {
        string? configured = Environment.GetEnvironmentVariable("REALTIME_NODE");
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(configured) ? configured : null;
        }

        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            if (dir.Length == 0)
            {
                continue;
            }

            string candidate = Path.Combine(dir, OperatingSystem.IsWindows() ? "node.exe" : "node");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static string FindRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Realtime.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Realtime.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Runs <c>node driver.mjs in out</c> in tests/ot-types and returns when it has written <paramref name="output"/>.</summary>
    public static void RunDriver(string input, string output, TimeSpan timeout)
    {
        if (Missing is string missing)
        {
            throw new InvalidOperationException(missing + $" ({RequireVariable}=1 requires it.)");
        }

        var start = new ProcessStartInfo(Node!)
        {
            WorkingDirectory = Folder,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("driver.mjs");
        start.ArgumentList.Add(input);
        start.ArgumentList.Add(output);
        using Process process = Process.Start(start)!;
        Task<string> errors = process.StandardError.ReadToEndAsync();
        Task<string> messages = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"node driver.mjs did not finish within {timeout.TotalSeconds} s.");
        }

        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"node driver.mjs exited with {process.ExitCode}: {errors.Result}{messages.Result}");
        }
    }
}

/// <summary>A test that compares a C# type with its npm original in Node.js: skipped (with what to install) where Node.js or the
/// packages of tests/ot-types are absent, unless <c>REALTIME_REQUIRE_NODE=1</c>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OtTypesNodeFactAttribute : FactAttribute
{
    public OtTypesNodeFactAttribute()
    {
        if (!OtTypesNode.Required && OtTypesNode.Missing is string missing)
        {
            Skip = missing;
        }
    }
}
