using Realtime.Server;

namespace Realtime.Server.Tests;

/// <summary>Reconnection against real Kestrel: the server goes away and comes back on the same port.</summary>
public abstract class ReconnectionTests(HostMode mode)
{
    /// <summary>Against <c>MapRealtime</c>.</summary>
    public sealed class OnEndpoint() : ReconnectionTests(HostMode.Endpoint);

    /// <summary>Against the dense listener (<c>ListenOptions.UseRealtime</c>).</summary>
    public sealed class OnDenseListener() : ReconnectionTests(HostMode.Dense);

    private static ClientOptions FastReconnect(int attempts = int.MaxValue) => new()
    {
        ReconnectionDelay = TimeSpan.FromMilliseconds(50),
        ReconnectionDelayMax = TimeSpan.FromMilliseconds(200),
        ReconnectionAttempts = attempts,
        Timeout = TimeSpan.FromSeconds(5),
    };

    [Fact]
    public async Task The_token_given_to_ConnectAsync_bounds_the_first_attempt_only_cancelled_afterwards_it_does_not_stop_reconnection()
    {
        KestrelRealtimeHost first = await KestrelRealtimeHost.StartAsync(mode);
        int port = first.Port;
        using var connectTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using Connection ann = await new Client.Client(first.Url, FastReconnect()).ConnectAsync("room1", cancellationToken: connectTimeout.Token).DefaultTimeout();
        var events = new ConnectionRecorder(ann);
        await connectTimeout.CancelAsync(); // as a timeout token does, long after the connection was made

        await first.StopAsync();
        await events.WaitForEventAsync("disconnect:TransportClose");
        await using KestrelRealtimeHost second = await KestrelRealtimeHost.StartAsync(mode, port: port);
        await events.WaitForEventAsync("connect");
        Assert.True(ann.Connected);
    }

    [Fact]
    public async Task Server_restart_gives_Disconnect_TransportClose_then_ReconnectAttempts_then_Reconnect_then_Connect_with_a_new_id()
    {
        KestrelRealtimeHost first = await KestrelRealtimeHost.StartAsync(mode);
        var serverSideReason = new TaskCompletionSource<DisconnectReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        first.Server.On(ServerEvents.Disconnect, ctx => serverSideReason.TrySetResult(ctx.Reason));
        int port = first.Port;
        await using Connection ann = await new Client.Client(first.Url, FastReconnect()).ConnectAsync("room1").DefaultTimeout();
        var events = new ConnectionRecorder(ann);
        string firstId = ann.Id!;

        await first.StopAsync();
        Assert.Equal(DisconnectReason.TransportClose, await serverSideReason.Task.DefaultTimeout());
        await events.WaitForEventAsync("disconnect:TransportClose");

        // Sent while offline: buffered, and delivered once the connection is back.
        ann.Send(new { n = 1 }, "while-offline");
        await events.WaitForCountAsync("error", 1);

        var delivered = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using KestrelRealtimeHost second = await KestrelRealtimeHost.StartAsync(mode,
            configureServer: s => s.On(ServerEvents.Message, ctx => delivered.TrySetResult(ctx.Type + ctx.Data.GetRawText())), port: port);
        await events.WaitForEventAsync("connect");
        Assert.Equal("while-offline{\"n\":1}", await delivered.Task.DefaultTimeout());

        IReadOnlyList<string> seq = events.Events;
        Assert.Equal("disconnect:TransportClose", seq[0]);
        Assert.Equal("connect", seq[^1]);
        string reconnect = seq[^2];
        Assert.StartsWith("reconnect:", reconnect, StringComparison.Ordinal);
        int attempts = int.Parse(reconnect["reconnect:".Length..], System.Globalization.CultureInfo.InvariantCulture);

        // Between them: reconnectAttempt:1..n, each failed one followed by exactly one error.
        var expected = new List<string> { "disconnect:TransportClose" };
        for (int i = 1; i <= attempts; i++)
        {
            expected.Add("reconnectAttempt:" + i);
            if (i < attempts)
            {
                expected.Add("error");
            }
        }

        expected.Add(reconnect);
        expected.Add("connect");
        Assert.Equal(expected, seq);
        Assert.NotEqual(firstId, ann.Id);
        Assert.Equal(20, ann.Id!.Length);
        Assert.Same(await second.Connections.WaitAsync(ann.Id), second.Server.GetConnections("room1").Single());
    }

    [Fact]
    public async Task After_a_server_restart_every_member_of_a_room_reconnects_and_the_room_resumes_messaging()
    {
        KestrelRealtimeHost first = await KestrelRealtimeHost.StartAsync(mode);
        int port = first.Port;
        var client = new Client.Client(first.Url, FastReconnect());
        ConnectionRecorder[] members = await Task.WhenAll(Enumerable.Range(0, 3).Select(async _ => new ConnectionRecorder(await client.ConnectAsync("room1").DefaultTimeout())));
        try
        {
            await first.StopAsync();
            foreach (ConnectionRecorder member in members)
            {
                await member.WaitForEventAsync("disconnect:TransportClose");
            }

            await using KestrelRealtimeHost second = await KestrelRealtimeHost.StartAsync(mode, port: port);
            foreach (ConnectionRecorder member in members)
            {
                await member.WaitForEventAsync("connect");
                await second.Connections.WaitAsync(member.Connection.Id!);
            }

            Assert.Equal(3, second.Server.ConnectionCount);
            for (int i = 0; i < members.Length; i++)
            {
                members[i].Connection.Send(new { from = i }, "after-restart");
            }

            foreach (ConnectionRecorder member in members)
            {
                await member.WaitForCountAsync("message:after-restart", 2); // from each of the two others
            }

            foreach (ConnectionRecorder member in members)
            {
                await member.Connection.CloseAsync().DefaultTimeout();
            }

            await second.Connections.WaitForOpenCountAsync(0);
            Assert.Equal(0, second.Server.ConnectionCount);
            Assert.Empty(second.Server.Rooms);
        }
        finally
        {
            foreach (ConnectionRecorder member in members)
            {
                await member.Connection.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task ReconnectFailed_after_ReconnectionAttempts_failures_with_one_error_each()
    {
        KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(mode);
        await using Connection ann = await new Client.Client(host.Url, FastReconnect(attempts: 3)).ConnectAsync("room1").DefaultTimeout();
        var events = new ConnectionRecorder(ann);

        await host.StopAsync();
        await events.WaitForEventAsync("reconnectFailed");
        Assert.Equal(
            new[]
            {
                "disconnect:TransportClose",
                "reconnectAttempt:1", "error", "reconnectAttempt:2", "error", "reconnectAttempt:3", "error",
                "reconnectFailed",
            },
            events.Events);
        Assert.All(events.Errors, e => Assert.IsType<RealtimeConnectException>(e));
        Assert.False(ann.Connected);
        Assert.Equal(Client.Internal.ConnectionState.Closed, ann.State);
    }

    [Fact]
    public async Task Connect_retries_a_failed_first_attempt_in_the_background()
    {
        // Nothing listens at first: the first attempts fail until a server starts there.
        (string url, int port) = await KestrelRealtimeHost.UnusedEndpointAsync();

        await using Connection ann = new Client.Client(url, FastReconnect()).Connect("room1");
        var events = new ConnectionRecorder(ann);
        await events.WaitForEventAsync("reconnectAttempt:1");
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(mode, port: port);
        await events.WaitForEventAsync("connect");
        Assert.Equal("error", events.Events[0]);
        Assert.True(ann.Connected);
    }

    [Fact]
    public async Task ConnectAsync_to_nothing_throws_RealtimeConnectException_and_does_not_retry()
    {
        (string url, _) = await KestrelRealtimeHost.UnusedEndpointAsync();

        var ex = await Assert.ThrowsAsync<RealtimeConnectException>(() => new Client.Client(url, FastReconnect()).ConnectAsync("room1").DefaultTimeout());
        Assert.False(ex.IsRejection);
    }

    [Fact]
    public async Task ConnectAsync_honours_its_cancellation_token()
    {
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(mode,
            configureServer: s => s.Use(ServerEvents.Connect, async (ctx, next) => await Task.Delay(Timeout.Infinite, ctx.HttpContext.RequestAborted))); // sleep-ok: connect middleware that never finishes
        using var cts = new CancellationTokenSource();
        Task<Connection> connecting = new Client.Client(host.Url).ConnectAsync("room1", cancellationToken: cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connecting.DefaultTimeout());
    }
}
