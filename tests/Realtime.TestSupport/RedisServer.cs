using Xunit;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Realtime.TestSupport;

/// <summary>
/// A real <c>redis-server</c>, started as a child process on a free loopback port (no persistence) and killed at the end. Where it is
/// not installed the Redis tests are skipped with a message saying so, unless <c>REALTIME_REQUIRE_REDIS=1</c> (set by CI) makes that a
/// failure.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    public const string RequireVariable = "REALTIME_REQUIRE_REDIS";

    public const string Missing = "redis-server is not installed: install it (apt-get install -y redis-server) or set REALTIME_REDIS_SERVER to its executable.";

    private readonly Process _process;

    private RedisServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    /// <summary>The executable: <c>REALTIME_REDIS_SERVER</c>, or <c>redis-server</c> on the PATH.</summary>
    public static string? Executable { get; } = Find();

    /// <summary>Why the Redis tests cannot run here, or <see langword="null"/> when they can (or must: CI then fails where it is absent).</summary>
    public static string? SkipReason => Executable is null && Environment.GetEnvironmentVariable(RequireVariable) != "1" ? Missing : null;

    public int Port { get; }

    /// <summary>The StackExchange.Redis configuration string.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    /// <summary>
    /// Starts a redis-server on a free port, or on <paramref name="port"/> (a restart: with no persistence, its data is gone). With
    /// <paramref name="dataDirectory"/>, it loads the snapshot a <c>SAVE</c> left there (a restart that keeps the data).
    /// </summary>
    public static async Task<RedisServer> StartAsync(int port = 0, string? dataDirectory = null)
    {
        string executable = Executable ?? throw new InvalidOperationException(Missing);
        port = port == 0 ? FreePort() : port;
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--enable-debug-command", "local" })
        {
            start.ArgumentList.Add(argument);
        }

        if (dataDirectory is not null)
        {
            start.ArgumentList.Add("--dir");
            start.ArgumentList.Add(dataDirectory);
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (e.Data?.Contains("Ready to accept connections", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        process.Exited += (_, _) =>
        {
            // Under the lock: the output handlers may still be appending on their own threads (a StringBuilder read during a write
            // threw here once and took the test host down).
            lock (output)
            {
                ready.TrySetException(new InvalidOperationException("redis-server exited: " + output));
            }
        };
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new RedisServer(process, port);
        try
        {
            await ready.Task.DefaultTimeout("redis-server to accept connections");
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().DefaultTimeout("redis-server to stop");
        }

        _process.Dispose();
    }

    /// <summary>A loopback port where nothing listens (free a moment ago).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? Find()
    {
        string? configured = Environment.GetEnvironmentVariable("REALTIME_REDIS_SERVER");
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(configured) ? configured : null;
        }

        return (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, "redis-server")).FirstOrDefault(File.Exists);
    }
}

/// <summary>Skips the class's backplane facts where redis-server is absent (and CI does not require it).</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RequiresRedisServerAttribute : Attribute, ISkipCondition
{
    public string? SkipReason => RedisServer.SkipReason;
}

/// <summary>A Redis test of its own: skipped where redis-server is absent (and CI does not require it).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        Skip = RedisServer.SkipReason;
    }
}
