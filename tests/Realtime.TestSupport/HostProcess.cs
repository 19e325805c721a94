using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
namespace Realtime.TestSupport;

/// <summary>The runnable host as a child process on a loopback port, configured by environment variables: a node that can be killed.</summary>
public sealed class HostProcess : IAsyncDisposable
{
    private readonly Process _process;

    private readonly System.Text.StringBuilder _output;

    private HostProcess(Process process, int port, System.Text.StringBuilder output)
    {
        _process = process;
        Port = port;
        _output = output;
    }

    /// <summary>What the host has written to its standard output so far.</summary>
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

    public int Port { get; }

    public string Url => $"ws://127.0.0.1:{Port}/realtime";

    /// <summary>Starts the host with its HTTP port on 127.0.0.1 and these variables (for example <c>Realtime__Redis__Configuration</c>); ready once it has started.</summary>
    /// <param name="environment">The variables the host is started with, beside the test process's own.</param>
    /// <param name="urlsInEnvironment">Gives the host its URL as <c>ASPNETCORE_URLS</c> rather than with <c>--urls</c>.</param>
    /// <param name="port">The port, for a host started again where its clients knew it; 0 (the default): a free one.</param>
    public static async Task<HostProcess> StartAsync(IReadOnlyDictionary<string, string> environment, bool urlsInEnvironment = false, int port = 0)
    {
        // The host built beside this test (the same configuration: Debug or Release).
        string configuration = Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)))!;
        string host = Path.Combine(RepositoryPaths.Root, "src", "Server", "Realtime.Server.Host", "bin", configuration, "net10.0", "Realtime.Server.Host.dll");
        port = port == 0 ? FreePort() : port;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(host);
        if (urlsInEnvironment)
        {
            start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        }
        else
        {
            start.ArgumentList.Add("--urls");
            start.ArgumentList.Add($"http://127.0.0.1:{port}");
        }

        // The host keeps documents in data/documents.db under its content root, the test's folder here: in memory instead, unless the
        // test chooses a store (a file of its own, a database) in its variables.
        if (!environment.Keys.Any(key => key.StartsWith("Realtime__Documents__", StringComparison.Ordinal)))
        {
            start.Environment["Realtime__Documents__Store"] = "memory";
        }
        foreach ((string key, string value) in environment)
        {
            start.Environment[key] = value;
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException("The host did not start.");
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (e.Data?.Contains("Application started", StringComparison.Ordinal) == true) // every listener is bound
            {
                ready.TrySetResult();
            }
        };
        var errors = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            lock (errors)
            {
                errors.AppendLine(e.Data);
            }
        };
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var child = new HostProcess(process, port, output);
        try
        {
            // Started, or exited first: then what it wrote to the end (its error) is read before it is reported.
            Task exited = process.WaitForExitAsync();
            if (await Task.WhenAny(ready.Task, exited).WaitAsync(TimeSpan.FromSeconds(30)) == exited)
            {
                await exited;
                string message;
                lock (errors)
                {
                    message = $"The host ({host}) exited ({process.ExitCode}): {errors}";
                }

                throw new InvalidOperationException(message);
            }
        }
        catch
        {
            await child.DisposeAsync();
            throw;
        }

        return child;
    }

    /// <summary>Kills the process at once: no goodbye to Redis, no close frames.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().DefaultTimeout("the host to die");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    /// <summary>A loopback port free a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
