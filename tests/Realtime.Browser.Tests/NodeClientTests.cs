using System.Diagnostics;
using System.Text.Json;
using Realtime.Server;
using Realtime.TestSupport;
using Xunit.Abstractions;

namespace Realtime.Browser.Tests;

/// <summary>The browser client's own tests in Node.js: its unit tests, and the client against the real server.</summary>
public sealed class NodeClientTests(ITestOutputHelper output)
{
    [NodeFact]
    public async Task The_unit_tests_of_the_client_pass()
    {
        // Backoff, the event registry, buffering, the state machine, recovery and Presence, on a fake WebSocket and mocked timers.
        (int exit, string text) = await RunNodeAsync(["--test", "test/client.test.js", "test/recovery.test.js", "test/presence.test.js"], environment: null);
        Assert.True(exit == 0, text);
        Assert.Contains("# fail 0", text, StringComparison.Ordinal);
    }

    [NodeFact]
    public async Task The_client_in_Nodejs_talks_to_the_real_server()
    {
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(configureServer: s =>
        {
            s.Use(ServerEvents.Connect, async (ctx, next) =>
            {
                if (ctx.Connection.Auth.ValueKind == JsonValueKind.Object && ctx.Connection.Auth.GetProperty("token").GetString() == "bad")
                {
                    ctx.Reject("Authentication failed");
                    return;
                }

                await next();
            });
            s.On(ServerEvents.EnterRoom, ctx => ctx.Connection?.Send(true, "joined"));
            s.On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message));
        });
        string origin = $"ws://127.0.0.1:{host.Port}";
        (int exit, string text) = await RunNodeAsync(["--experimental-websocket", "--test", "test/e2e/node.e2e.js"], new() { ["REALTIME_URL"] = origin });
        Assert.True(exit == 0, text);
        Assert.Contains("# pass 2", text, StringComparison.Ordinal);
    }

    private async Task<(int Exit, string Output)> RunNodeAsync(string[] arguments, Dictionary<string, string>? environment)
    {
        string node = Requirements.Node ?? throw new InvalidOperationException(Requirements.NodeMissing);
        var start = new ProcessStartInfo(node)
        {
            WorkingDirectory = Requirements.ClientPackage,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach ((string key, string value) in environment ?? [])
        {
            start.Environment[key] = value;
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("node did not finish within 60 s: " + await stdout);
        }

        string text = await stdout + await stderr;
        output.WriteLine(text);
        return (process.ExitCode, text);
    }
}
