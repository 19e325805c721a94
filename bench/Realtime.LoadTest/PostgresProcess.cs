using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Realtime.LoadTest;

/// <summary>
/// A PostgreSQL of the benchmark's own: <c>initdb</c> into a temporary directory, then <c>postgres</c> on a free loopback port with its
/// durable defaults (fsync and synchronous commit on: an acknowledged op is on disk, for every system alike), deleted at the end.
/// Debian keeps the programs in <c>/usr/lib/postgresql/VERSION/bin</c> (<c>REALTIME_POSTGRES_BIN</c> names another directory); as root
/// they run as the user <c>postgres</c>, which PostgreSQL requires.
/// </summary>
internal sealed class PostgresProcess : IAsyncDisposable
{
    /// <summary>The superuser the benchmark connects as (trusted on loopback: no password).</summary>
    public const string User = "postgres";

    private readonly Process _process;
    private readonly string _directory;

    private PostgresProcess(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    /// <summary>CPU time of the postmaster and every backend it has now (a pool keeps its connections: no backend exits mid-run).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            TimeSpan total = ServerProcess.CpuTimeOf(_process.Id);
            foreach (string stat in Directory.EnumerateDirectories("/proc").Select(d => Path.Combine(d, "stat")))
            {
                try
                {
                    string text = File.ReadAllText(stat);
                    string[] fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
                    if (int.Parse(fields[1], CultureInfo.InvariantCulture) == _process.Id)
                    {
                        total += TimeSpan.FromSeconds((long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0);
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
                {
                    // Not a process, or one that has just exited.
                }
            }

            return total;
        }
    }

    public static async Task<PostgresProcess> StartAsync()
    {
        string bin = FindPrograms() ?? throw new InvalidOperationException("PostgreSQL is not installed: apt-get install -y postgresql, or set REALTIME_POSTGRES_BIN to the directory of its initdb and postgres.");
        string? user = Environment.IsPrivilegedProcess ? User : null;
        string directory = Directory.CreateTempSubdirectory("realtime-bench-postgres-").FullName;
        if (user is not null)
        {
            await RunAsync(Start("chown", [user, directory], null));
        }

        string data = Path.Combine(directory, "data");
        await RunAsync(Start(Path.Combine(bin, "initdb"), ["-D", data, "-U", User, "--auth=trust", "-E", "UTF8", "--no-locale"], user));
        int port = FreePort();
        Process process = Start(Path.Combine(bin, "postgres"), ["-D", data, "-p", port.ToString(CultureInfo.InvariantCulture), "-k", directory, "-h", "127.0.0.1", "-c", "max_connections=200"], user);
        var server = new PostgresProcess(process, directory, port);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("ready to accept connections", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
            else if (e.Data?.Contains("FATAL", StringComparison.Ordinal) == true || e.Data?.Contains("ERROR", StringComparison.Ordinal) == true)
            {
                Console.Error.WriteLine("[postgres] " + e.Data);
            }
        };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(60));
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
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A backend still closing its files: the temporary directory is left to the system.
        }
    }

    /// <summary>A program, as <paramref name="user"/> through <c>setpriv</c> when given (which runs it in its own process).</summary>
    private static Process Start(string program, string[] arguments, string? user)
    {
        var start = new ProcessStartInfo(user is null ? program : "setpriv") { RedirectStandardOutput = true, RedirectStandardError = true };
        string[] prefix = user is null ? [] : ["--reuid", user, "--regid", user, "--init-groups", "--reset-env", "--", program];
        foreach (string argument in prefix.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start) ?? throw new InvalidOperationException(program + " did not start.");
    }

    private static async Task RunAsync(Process process)
    {
        using (process)
        {
            Task<string> output = process.StandardOutput.ReadToEndAsync();
            Task<string> error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"{process.StartInfo.FileName} failed ({process.ExitCode}): {await output}{await error}");
            }
        }
    }

    private static string? FindPrograms()
    {
        if (Environment.GetEnvironmentVariable("REALTIME_POSTGRES_BIN") is { Length: > 0 } configured)
        {
            return configured;
        }

        const string Debian = "/usr/lib/postgresql";
        return Directory.Exists(Debian)
            ? Directory.GetDirectories(Debian).OrderByDescending(d => int.TryParse(Path.GetFileName(d), out int v) ? v : 0).Select(d => Path.Combine(d, "bin"))
                .FirstOrDefault(d => File.Exists(Path.Combine(d, "postgres")))
            : null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
