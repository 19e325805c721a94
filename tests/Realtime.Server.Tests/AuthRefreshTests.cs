using System.Text.Json;
using Realtime.Server;

namespace Realtime.Server.Tests;

/// <summary>Auth is read again before every connection attempt, so an expiring token can be refreshed on reconnection.</summary>
public abstract class AuthRefreshTests(HostMode mode)
{
    /// <summary>Against <c>MapRealtime</c>.</summary>
    public sealed class OnEndpoint() : AuthRefreshTests(HostMode.Endpoint);

    /// <summary>Against the dense listener (<c>ListenOptions.UseRealtime</c>).</summary>
    public sealed class OnDenseListener() : AuthRefreshTests(HostMode.Dense);

    [Fact]
    public async Task AuthProvider_is_asked_before_every_attempt_and_the_server_sees_each_fresh_token()
    {
        int issued = 0;
        await RunAsync(new ConnectOptions { AuthProvider = _ => ValueTask.FromResult<object?>(new { token = "t" + Interlocked.Increment(ref issued) }) },
                       beforeReconnect: null, ["t1", "t2", "t3"]);
    }

    [Fact]
    public async Task Auth_assigned_a_new_value_is_sent_on_the_next_reconnection()
    {
        var options = new ConnectOptions { Auth = new { token = "t1" } };
        int round = 1;
        await RunAsync(options, beforeReconnect: () => options.Auth = new { token = "t" + ++round }, ["t1", "t2", "t3"]);
    }

    [Fact]
    public async Task An_AuthProvider_that_throws_fails_that_attempt_and_the_next_one_connects()
    {
        int calls = 0;
        var attached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var seen = new WatchedList<string>();
        await using KestrelRealtimeHost host = await StartAsync(seen);
        var client = new Client.Client(host.Url, FastRetry());
        await using Connection connection = client.Connect("room1", new ConnectOptions
        {
            AuthProvider = async ct =>
            {
                if (Interlocked.Increment(ref calls) == 1)
                {
                    // Fail only once the handlers are on, so the test sees the failure whatever the thread timing.
                    await attached.Task.WaitAsync(ct);
                    throw new InvalidOperationException("token service down");
                }

                return new { token = "t2" };
            },
        });
        var recorder = new ConnectionRecorder(connection);
        attached.SetResult();
        await recorder.WaitForEventAsync("connect");
        Assert.Equal(["t2"], seen.Items);
        Exception error = Assert.Single(recorder.Errors);
        Assert.IsType<RealtimeConnectException>(error);
        Assert.Contains("ConnectOptions.AuthProvider failed: token service down", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_provider_that_throws_at_once_is_reported_after_the_upgrade_so_handlers_added_after_Connect_see_it()
    {
        int calls = 0;
        var seen = new WatchedList<string>();
        await using KestrelRealtimeHost host = await StartAsync(seen);
        var client = new Client.Client(host.Url, FastRetry());
        await using Connection connection = client.Connect("room1", new ConnectOptions
        {
            AuthProvider = _ => Interlocked.Increment(ref calls) == 1
                ? throw new InvalidOperationException("token service down")
                : ValueTask.FromResult<object?>(new { token = "t2" }),
        });
        var recorder = new ConnectionRecorder(connection);
        await recorder.WaitForEventAsync("connect");
        Assert.Equal(["t2"], seen.Items);
        Assert.Contains("token service down", Assert.Single(recorder.Errors).Message, StringComparison.Ordinal);
    }

    private async Task RunAsync(ConnectOptions options, Action? beforeReconnect, string[] expected)
    {
        var seen = new WatchedList<string>();
        await using KestrelRealtimeHost host = await StartAsync(seen);
        await using FaultProxy proxy = await FaultProxy.StartAsync(new Uri(host.Url));
        var client = new Client.Client(proxy.Url.ToString(), FastRetry());
        await using Connection connection = client.Connect("room1", options);
        for (int i = 1; i <= expected.Length; i++)
        {
            await seen.WaitForAsync(s => s.Count == i, $"connection attempt {i} at the server");
            if (i < expected.Length)
            {
                await host.Connections.WaitForOpenCountAsync(1);
                beforeReconnect?.Invoke();
                proxy.ResetConnections();
            }
        }

        Assert.Equal(expected, seen.Items);
    }

    private static ClientOptions FastRetry() => new() { ReconnectionDelay = TimeSpan.FromMilliseconds(20), ReconnectionDelayMax = TimeSpan.FromMilliseconds(50) };

    private Task<KestrelRealtimeHost> StartAsync(WatchedList<string> seen) => KestrelRealtimeHost.StartAsync(mode, configureServer: s =>
        s.Use(ServerEvents.Connect, async (ctx, next) =>
        {
            seen.Add(ctx.Connection.Auth.ValueKind == JsonValueKind.Object ? ctx.Connection.Auth.GetProperty("token").GetString()! : "(none)");
            await next();
        }));
}
