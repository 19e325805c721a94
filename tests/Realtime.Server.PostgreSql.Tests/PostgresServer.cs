using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Realtime.TestSupport;

namespace Realtime.Server.PostgreSql.Tests;

/// <summary>
/// A real PostgreSQL server, made by the tests themselves: <c>initdb</c> into a temporary directory, then <c>postgres</c> on a free loopback
/// port (no durability: fsync off, for speed), stopped and deleted at the end. Debian's <c>postgresql</c> package keeps the programs in
/// <c>/usr/lib/postgresql/VERSION/bin</c>, off the PATH; <c>REALTIME_POSTGRES_BIN</c> names another directory. PostgreSQL refuses to run as
/// root, so as root both run as the unprivileged user <c>postgres</c> (the package's; <c>REALTIME_POSTGRES_USER</c> names another), who
/// owns the directory. Where PostgreSQL is not installed the tests are skipped with a message saying so, unless
/// <c>REALTIME_REQUIRE_POSTGRES=1</c> (set by CI) makes that a failure.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string RequireVariable = "REALTIME_REQUIRE_POSTGRES";

    public const string Missing = "PostgreSQL is not installed: install it (apt-get install -y postgresql) or set REALTIME_POSTGRES_BIN to the directory of its initdb and postgres.";

    private const string Superuser = "postgres";

    private readonly Process _process;
    private readonly DirectoryInfo _directory;
    private readonly StringBuilder _output;

    private PostgresServer(Process process, DirectoryInfo directory, int port, StringBuilder output)
    {
        _process = process;
        _directory = directory;
        _output = output;
        Port = port;
    }

    /// <summary>The directory of <c>initdb</c> and <c>postgres</c>, or <see langword="null"/> when they are not found.</summary>
    public static string? BinDirectory { get; } = Find();

    /// <summary>Why the PostgreSQL tests cannot run here, or <see langword="null"/> when they can (or must: CI then fails where it is absent).</summary>
    public static string? SkipReason => BinDirectory is null && Environment.GetEnvironmentVariable(RequireVariable) != "1" ? Missing : null;

    public int Port { get; }

    /// <summary>The Npgsql connection string of the server's <c>postgres</c> database (trusted: no password).</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username={Superuser};Database=postgres;Timeout=15;Command Timeout=15";

    public static async Task<PostgresServer> StartAsync()
    {
        string bin = BinDirectory ?? throw new InvalidOperationException(Missing);
        string? user = Environment.IsPrivilegedProcess ? Environment.GetEnvironmentVariable("REALTIME_POSTGRES_USER") ?? "postgres" : null;
        DirectoryInfo directory = Directory.CreateTempSubdirectory("realtime-postgres-");
        try
        {
            if (user is not null)
            {
                await RunAsync("chown", [user, directory.FullName], null, directory.FullName);
            }

            string data = Path.Combine(directory.FullName, "data");
            await RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", Superuser, "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"], user, directory.FullName);
            int port = FreePort();
            Process process = Start(Path.Combine(bin, "postgres"), ["-D", data, "-p", port.ToString(CultureInfo.InvariantCulture), "-k", directory.FullName, "-h", "127.0.0.1",
                                                                     "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=300"], user, directory.FullName);
            var output = new StringBuilder();
            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            DataReceivedEventHandler collect = (_, e) =>
            {
                lock (output)
                {
                    output.AppendLine(e.Data);
                }

                if (e.Data?.Contains("ready to accept connections", StringComparison.Ordinal) == true)
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
                    ready.TrySetException(new InvalidOperationException("postgres exited: " + output));
                }
            };
            process.EnableRaisingEvents = true;
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var server = new PostgresServer(process, directory, port, output);
            try
            {
                await ready.Task.DefaultTimeout("postgres to accept connections");
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }

            return server;
        }
        catch
        {
            Cleanup(directory);
            throw;
        }
    }

    /// <summary>Stops the server (every backend with it) and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().DefaultTimeout("postgres to stop");
        }

        _process.Dispose();
        Cleanup(_directory);
    }

    /// <summary>What the server wrote (for a failure's message).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    private static void Cleanup(DirectoryInfo directory)
    {
        try
        {
            directory.Refresh();
            if (directory.Exists)
            {
                directory.Delete(recursive: true);
            }
        }
        catch (IOException)
        {
            // A backend still closing its files: the temporary directory is left to the system.
        }
        catch (UnauthorizedAccessException)
        {
            // Likewise.
        }
    }

    /// <summary>A program as <paramref name="user"/> (through <c>setpriv</c>, when given), its output collected.</summary>
    private static Process Start(string program, string[] arguments, string? user, string workingDirectory)
    {
        var start = new ProcessStartInfo(user is null ? program : "setpriv")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        if (user is not null)
        {
            // setpriv executes the program in its own process (no parent left behind), with the user's ids and groups.
            foreach (string argument in new[] { "--reuid", user, "--regid", user, "--init-groups", "--reset-env", "--", program })
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start) ?? throw new InvalidOperationException(program + " did not start.");
    }

    private static async Task RunAsync(string program, string[] arguments, string? user, string workingDirectory)
    {
        using Process process = Start(program, arguments, user, workingDirectory);
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(program)} failed ({process.ExitCode}): {await output}{await error}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? Find()
    {
        string? configured = Environment.GetEnvironmentVariable("REALTIME_POSTGRES_BIN");
        if (!string.IsNullOrEmpty(configured))
        {
            return HasPrograms(configured) ? configured : null;
        }

        // Debian's packages, newest version first; then the PATH.
        const string Debian = "/usr/lib/postgresql";
        IEnumerable<string> installed = Directory.Exists(Debian)
            ? Directory.GetDirectories(Debian).OrderByDescending(d => int.TryParse(Path.GetFileName(d), out int v) ? v : 0).Select(d => Path.Combine(d, "bin"))
            : [];
        return installed.Concat((Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            .FirstOrDefault(HasPrograms);
    }

    private static bool HasPrograms(string directory) => File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "postgres"));
}

/// <summary>Skips a test class where PostgreSQL is absent (and CI does not require it); see <see cref="SkippingTestFramework"/>.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RequiresPostgresAttribute : Attribute, ISkipCondition
{
    public string? SkipReason => PostgresServer.SkipReason;
}
