using System.Diagnostics;
using Realtime.Protocol;
using Realtime.Server;

namespace Realtime.Server.Tests;

/// <summary>
/// The fault matrix on real Kestrel. In each row one member of room1 (the victim) suffers a fault, through the fault
/// proxy or by misbehaving; each row asserts what both sides report, that two bystanders in the same room keep
/// exchanging messages, and that the server's connection and room counts come back to their baseline.
/// </summary>
public abstract class FaultMatrixTests(HostMode mode) : IAsyncLifetime
{
    /// <summary>Against <c>MapRealtime</c>.</summary>
    public sealed class OnEndpoint() : FaultMatrixTests(HostMode.Endpoint);

    /// <summary>Against the dense listener (<c>ListenOptions.UseRealtime</c>).</summary>
    public sealed class OnDenseListener() : FaultMatrixTests(HostMode.Dense);

    private static readonly TimeSpan PingInterval = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan PingTimeout = TimeSpan.FromMilliseconds(500);

    /// <summary>The heartbeat's own granularity plus scheduling on a loaded 2-core machine.</summary>
    private static readonly TimeSpan DetectionSlack = TimeSpan.FromSeconds(1.5);

    private readonly LogSink _logs = new();
    private readonly TaskCompletionSource _releaseHangingHook = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private KestrelRealtimeHost _host = null!;
    private Bystanders _bystanders = null!;
    private FaultProxy _proxy = null!;
    private string[] _expectedErrors = [];

    public async Task InitializeAsync()
    {
        _host = await KestrelRealtimeHost.StartAsync(mode, o =>
        {
            o.PingInterval = PingInterval;
            o.PingTimeout = PingTimeout;
            o.HandshakeTimeout = TimeSpan.FromSeconds(2); // long enough for a cold start, short for the hanging-middleware row
            o.MaxMessagesPerSecond = 0;
        }, ConfigureServer, logs: _logs);
        _bystanders = await Bystanders.ConnectAsync(_host);
        await _host.Connections.WaitForOpenCountAsync(2);
        _proxy = await FaultProxy.StartAsync(new Uri(_host.Url));
    }

    public async Task DisposeAsync()
    {
        _releaseHangingHook.TrySetResult();
        await _proxy.DisposeAsync();
        await _bystanders.DisposeAsync();
        await _host.Connections.WaitForOpenCountAsync(0);
        Assert.Equal(0, _host.Server.ConnectionCount);
        Assert.Empty(_host.Server.Rooms);
        _host.ExpectErrors(_expectedErrors);
        await _host.DisposeAsync(); // fails on any other error log
    }

    [Fact]
    public async Task Peer_vanishes_blackhole_both_sides_report_PingTimeout_within_interval_plus_timeout()
    {
        var victim = await ConnectVictimAsync();
        string id = victim.Connection.Id!;

        long start = Stopwatch.GetTimestamp();
        _proxy.Blackhole(FaultDirection.Both);
        Task<TimeSpan> clientDetected = victim.WaitForEventAsync("disconnect:PingTimeout").ContinueWith(_ => Stopwatch.GetElapsedTime(start), TaskScheduler.Default);
        LogSink.LogEntry serverDetection = await _logs.WaitForAsync("PingTimeout", e => Equals(e.Value("ConnectionId"), id));
        TimeSpan serverDetected = Stopwatch.GetElapsedTime(start, serverDetection.Timestamp);
        Assert.Equal(DisconnectReason.PingTimeout, await _host.Connections.WaitForDisconnectAsync(id));

        // Each side notices when its oldest unanswered ping (sent at most one interval after the fault) is a timeout old.
        Assert.True(serverDetected <= PingInterval + PingTimeout + DetectionSlack, $"server detected after {serverDetected}");
        Assert.True(await clientDetected <= PingInterval + PingTimeout + DetectionSlack, $"client detected after {await clientDetected}");
        Console.WriteLine($"Blackhole: server detected PingTimeout after {serverDetected.TotalMilliseconds:F0} ms, client after {(await clientDetected).TotalMilliseconds:F0} ms (interval + timeout = {(PingInterval + PingTimeout).TotalMilliseconds} ms).");

        await _bystanders.AssertExchangeAsync();
        await RemoveVictimAsync(victim);
    }

    [Fact]
    public async Task Tcp_reset_the_client_reports_TransportClose_and_the_server_TransportClose_then_the_client_reconnects()
    {
        var victim = await ConnectVictimAsync();
        string id = victim.Connection.Id!;

        _proxy.ResetConnections();
        await victim.WaitForEventAsync("disconnect:TransportClose");
        Assert.Equal(DisconnectReason.TransportClose, await _host.Connections.WaitForDisconnectAsync(id));
        await victim.WaitForEventAsync("reconnect:1");
        await _host.Connections.WaitAsync(victim.Connection.Id!);
        await _bystanders.AssertExchangeAsync();
        await RemoveVictimAsync(victim);
    }

    [Fact]
    public async Task Clean_tcp_close_without_a_close_frame_both_sides_report_TransportClose()
    {
        var victim = await ConnectVictimAsync();
        string id = victim.Connection.Id!;

        _proxy.CloseConnections();
        await victim.WaitForEventAsync("disconnect:TransportClose");
        Assert.Equal(DisconnectReason.TransportClose, await _host.Connections.WaitForDisconnectAsync(id));
        await victim.WaitForEventAsync("reconnect:1");
        await _bystanders.AssertExchangeAsync();
        await RemoveVictimAsync(victim);
    }

    [Theory]
    [InlineData("throwing-hook", "HookFailed")]
    [InlineData("hanging-hook", null)]
    public async Task A_message_hook_that_throws_or_hangs_affects_only_its_own_connection(string type, string? expectedError)
    {
        _expectedErrors = expectedError is null ? [] : [expectedError];
        var victim = await ConnectVictimAsync();
        victim.Connection.Send(new { }, type);
        if (expectedError is not null)
        {
            await _logs.WaitForAsync(expectedError);
        }

        await _bystanders.AssertExchangeAsync();
        _releaseHangingHook.TrySetResult();
        victim.Connection.Send(new { after = true }, "after");
        await _bystanders.First.WaitForEventAsync("message:after"); // the victim's connection still works once its hook returned
        await RemoveVictimAsync(victim);
    }

    [Fact]
    public async Task Message_middleware_that_throws_sends_an_error_to_that_sender_only()
    {
        _expectedErrors = ["MessageMiddlewareFailed"];
        var victim = await ConnectVictimAsync();
        victim.Connection.Send(new { }, "throwing-middleware");
        await victim.WaitForEventAsync("error");
        Assert.Equal("Internal server error", victim.Errors.Single().Message);
        await _bystanders.AssertExchangeAsync();
        Assert.DoesNotContain("error", _bystanders.First.Events);
        await RemoveVictimAsync(victim);
    }

    [Fact]
    public async Task Connect_middleware_that_throws_rejects_that_connection_with_4002_only()
    {
        _expectedErrors = ["ConnectMiddlewareFailed"];
        await using RawProtocolClient raw = await RawProtocolClient.ConnectAsync(_host.Url, "roomId=room1&fault=throw");
        await raw.HelloAsync();
        Assert.Equal("{\"t\":\"reject\",\"message\":\"Internal server error\"}", await raw.ReceiveAsync());
        Assert.Equal(CloseCodes.HandshakeRejected, await raw.ReceiveCloseAsync());
        await _bystanders.AssertExchangeAsync();
        Assert.Equal(2, _host.Server.ConnectionCount);
    }

    [Fact]
    public async Task Connect_middleware_that_hangs_ends_at_the_handshake_timeout_with_4008_only()
    {
        await using RawProtocolClient raw = await RawProtocolClient.ConnectAsync(_host.Url, "roomId=room1&fault=hang");
        await raw.HelloAsync();
        Assert.Equal(CloseCodes.HandshakeTimeout, await raw.ReceiveCloseAsync());
        await _bystanders.AssertExchangeAsync();
        Assert.Equal(2, _host.Server.ConnectionCount);
    }

    private void ConfigureServer(RealtimeServer server) => server
        .Use(ServerEvents.Connect, async (ctx, next) =>
        {
            switch (ctx.Connection.Query.GetValueOrDefault("fault"))
            {
                case "throw":
                    throw new InvalidOperationException("connect middleware fault");
                case "hang":
                    await _releaseHangingHook.Task;
                    break;
            }

            await next();
        })
        .Use(ServerEvents.Message, (ctx, next) => ctx.Type == "throwing-middleware" ? throw new InvalidOperationException("middleware fault") : next())
        .On(ServerEvents.Message, async ctx =>
        {
            switch (ctx.Type)
            {
                case "throwing-hook":
                    throw new InvalidOperationException("hook fault");
                case "hanging-hook":
                    await _releaseHangingHook.Task;
                    break;
                default:
                    ctx.Connection.Broadcast(ctx.Message);
                    break;
            }
        });

    /// <summary>A client member of room1 through the fault proxy, connected and known to the server.</summary>
    private async Task<ConnectionRecorder> ConnectVictimAsync()
    {
        var client = new Client.Client(_proxy.Url.ToString(), new ClientOptions
        {
            ReconnectionDelay = TimeSpan.FromMilliseconds(50),
            ReconnectionDelayMax = TimeSpan.FromMilliseconds(200),
            Timeout = TimeSpan.FromSeconds(2),
        });
        Connection connection = await client.ConnectAsync("room1").DefaultTimeout();
        var recorder = new ConnectionRecorder(connection);
        await _host.Connections.WaitAsync(connection.Id!);
        return recorder;
    }

    /// <summary>Heals the proxy, closes the victim and waits until the server is back at its baseline: the two bystanders in room1.</summary>
    private async Task RemoveVictimAsync(ConnectionRecorder victim)
    {
        _proxy.Heal();
        await victim.Connection.DisposeAsync();
        await _host.Connections.WaitForOpenCountAsync(2);
        Assert.Equal(2, _host.Server.ConnectionCount);
        Assert.Equal(["room1"], _host.Server.Rooms);
    }
}
