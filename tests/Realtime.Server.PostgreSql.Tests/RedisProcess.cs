using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Realtime.TestSupport;

namespace Realtime.Server.PostgreSql.Tests;

/// <summary>
/// A real <c>redis-server</c> for the cluster tests' backplane: on a free loopback port, without persistence, killed at the end. Found as
/// the Redis backplane's tests find it (<c>REALTIME_REDIS_SERVER</c>, else the PATH), and required alike (<c>REALTIME_REQUIRE_REDIS=1</c>).
/// </summary>
public sealed class RedisProcess : IAsyncDisposable
{
    public const string Missing = "redis-server is not installed: install it (apt-get install -y redis-server) or set REALTIME_REDIS_SERVER to its executable.";

    private readonly Process _process;

    private RedisProcess(Process process, int port)
    {
        _process = process;
        Configuration = $"127.0.0.1:{port}";
    }

    public static string? Executable { get; } = Find();

    public static string? SkipReason => Executable is null && Environment.GetEnvironmentVariable("REALTIME_REQUIRE_REDIS") != "1" ? Missing : null;

    /// <summary>The StackExchange.Redis configuration string.</summary>
    public string Configuration { get; }

    public static async Task<RedisProcess> StartAsync()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var start = new ProcessStartInfo(Executable ?? throw new InvalidOperationException(Missing))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
        {
            start.ArgumentList.Add(argument);
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        var output = new StringBuilder();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        DataReceivedEventHandler collect = (_, e) =>
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
        process.OutputDataReceived += collect;
        process.ErrorDataReceived += collect;
        process.Exited += (_, _) =>
        {
            lock (output)
            {
                ready.TrySetException(new InvalidOperationException("redis-server exited: " + output));
            }
        };
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var redis = new RedisProcess(process, port);
        try
        {
            await ready.Task.DefaultTimeout("redis-server to accept connections");
        }
        catch
        {
            await redis.DisposeAsync();
            throw;
        }

        return redis;
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

/// <summary>One redis-server for a test class.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private RedisProcess? _redis;

    public string Configuration => (_redis ?? throw new InvalidOperationException(RedisProcess.Missing)).Configuration;

    public async Task InitializeAsync()
    {
        if (RedisProcess.SkipReason is null && PostgresServer.SkipReason is null)
        {
            _redis = await RedisProcess.StartAsync();
        }
    }

    public async Task DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }
}

/// <summary>Skips a test class where PostgreSQL or redis-server is absent (and CI does not require them).</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RequiresPostgresAndRedisAttribute : Attribute, ISkipCondition
{
    public string? SkipReason => PostgresServer.SkipReason ?? RedisProcess.SkipReason;
}
