using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Realtime.LoadTest;

/// <summary>A system under test, in its own process on a free loopback port, with its CPU time and resident memory read from /proc.</summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ServerProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The server's process id, printed so that a profiler can attach (<c>dotnet-trace collect -p</c>).</summary>
    public int ProcessId => _process.Id;

    /// <summary>User plus system CPU time of the server process so far.</summary>
    public TimeSpan CpuTime => CpuTimeOf(_process.Id);

    /// <summary>User plus system CPU time of process <paramref name="processId"/> so far (the document benchmark's Node driver too).</summary>
    public static TimeSpan CpuTimeOf(int processId)
    {
        // /proc/<pid>/stat: fields 14 and 15 (utime, stime) in clock ticks, after the parenthesised command name.
        string stat = File.ReadAllText($"/proc/{processId}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    /// <summary>Resident set size of the server process, in bytes.</summary>
    public long ResidentBytes
    {
        get
        {
            string line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
    }

    /// <summary>Starts a system under test; <paramref name="environment"/> adds variables (for example the Redis of a cluster).</summary>
    public static async Task<ServerProcess> StartAsync(string system, string repositoryRoot, string configuration, IReadOnlyDictionary<string, string>? environment = null)
    {
        int port = FreePort();
        ProcessStartInfo start = system switch
        {
            "realtime" or "compat" => DotNet(repositoryRoot, configuration, "RealtimePeer", port),
            "dense" => Dense(DotNet(repositoryRoot, configuration, "RealtimePeer", port), port),
            "history" => WithHistory(DotNet(repositoryRoot, configuration, "RealtimePeer", port)),
            "signalr" => DotNet(repositoryRoot, configuration, "SignalRPeer", port),
            "raw" => DotNet(repositoryRoot, configuration, "RawPeer", port),
            "strong" => DotNet(repositoryRoot, configuration, "StrongRawPeer", port),
            "socketio" => await NodeAsync(repositoryRoot, port),

            // The document benchmark (Documents.cs): the Realtime peer with UseDocuments, and the two Node document servers.
            "documents" => WithDocuments(DotNet(repositoryRoot, configuration, "RealtimePeer", port)),
            "ot-original" => await NodeAsync(repositoryRoot, port, "ot-original", "@mescius/js-collaboration-ot-postgres"),
            "sharedb" => await NodeAsync(repositoryRoot, port, "sharedb", "sharedb-postgres"),
            _ => throw new ArgumentException(system),
        };
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return await StartAsync(start, system, port);
    }

    /// <summary>A redis-server on a free loopback port, without persistence, for the cross-node scenarios.</summary>
    public static Task<ServerProcess> StartRedisAsync()
    {
        int port = FreePort();
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("REALTIME_REDIS_SERVER") ?? "redis-server")
        {
            ArgumentList = { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning" },
        };
        return StartAsync(start, "redis", port);
    }

    private static async Task<ServerProcess> StartAsync(ProcessStartInfo start, string system, int port)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        Process process = Process.Start(start) ?? throw new InvalidOperationException("Could not start " + system);
        DataReceivedEventHandler relay = (_, e) =>
        {
            if (!string.IsNullOrEmpty(e.Data))
            {
                Console.Error.WriteLine($"[{system}] {e.Data}");
            }
        };
        process.OutputDataReceived += relay;
        process.ErrorDataReceived += relay;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process, port);
        await server.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));
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
    }

    private static ProcessStartInfo DotNet(string root, string configuration, string project, int port)
    {
        string dll = Path.Combine(root, "bench", "peers", project, "bin", configuration, "net10.0", project + ".dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"{dll} is missing: build the load test (it builds the peers with it).");
        }

        var start = new ProcessStartInfo("dotnet") { ArgumentList = { dll, "--urls", $"http://127.0.0.1:{port}" } };
        start.Environment["DOTNET_gcServer"] = "1";
        return start;
    }

    /// <summary>The Realtime peer serving its port with the dense listener (<c>ListenOptions.UseRealtime</c>) instead of <c>MapRealtime</c>.</summary>
    /// <summary>The Realtime peer with recovery on for every room (each room keeps its last 1 000 broadcasts).</summary>
    private static ProcessStartInfo WithHistory(ProcessStartInfo start)
    {
        start.Environment["BENCH_RECOVERY"] = "1";
        return start;
    }

    /// <summary>The Realtime peer serving shared documents (<c>UseDocuments</c> with json0) on its compatibility endpoint.</summary>
    private static ProcessStartInfo WithDocuments(ProcessStartInfo start)
    {
        start.Environment["BENCH_DOCUMENTS"] = "1";
        return start;
    }

    private static ProcessStartInfo Dense(ProcessStartInfo start, int port)
    {
        int urls = start.ArgumentList.IndexOf("--urls"); // the dense listener replaces the HTTP one
        start.ArgumentList.RemoveAt(urls + 1);
        start.ArgumentList.RemoveAt(urls);
        start.Environment["BENCH_DENSE_PORT"] = port.ToString(CultureInfo.InvariantCulture);
        return start;
    }

    /// <summary>A Node peer in bench/peers/<paramref name="peer"/>, its packages installed from its lock file on first use (or when
    /// <paramref name="package"/>, its newest dependency, is missing).</summary>
    private static async Task<ProcessStartInfo> NodeAsync(string root, int port, string peer = "socketio", string package = "socket.io")
    {
        string folder = Path.Combine(root, "bench", "peers", peer);
        if (!Directory.Exists(Path.Combine(folder, "node_modules", package)))
        {
            // Its report goes to stderr: stdout carries only the table.
            using Process install = Process.Start(new ProcessStartInfo("npm", "install --no-audit --no-fund --loglevel=error") { WorkingDirectory = folder, RedirectStandardOutput = true })!;
            Console.Error.Write(await install.StandardOutput.ReadToEndAsync());
            await install.WaitForExitAsync();
            if (install.ExitCode != 0)
            {
                throw new InvalidOperationException("npm install failed in " + folder);
            }
        }

        return new ProcessStartInfo("node") { ArgumentList = { "server.js", port.ToString(CultureInfo.InvariantCulture) }, WorkingDirectory = folder };
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task WaitUntilListeningAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The server exited with {_process.ExitCode} before listening.");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (clock.Elapsed < timeout)
            {
                await Task.Delay(50); // the child process has no readiness signal but its port
            }
        }
    }
}
