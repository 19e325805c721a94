using System.Net.WebSockets;
using Realtime.Protocol;
using Realtime.Server;

namespace Realtime.Server.Tests;

/// <summary>The abuse controls of RealtimeOptions on real Kestrel: connection limits, the inbound rate limit and the Origin allow-list.</summary>
public abstract class LimitsTests(HostMode mode)
{
    /// <summary>Against <c>MapRealtime</c>.</summary>
    public sealed class OnEndpoint() : LimitsTests(HostMode.Endpoint);

    /// <summary>Against the dense listener (<c>ListenOptions.UseRealtime</c>).</summary>
    public sealed class OnDenseListener() : LimitsTests(HostMode.Dense);

    private readonly LogSink _logs = new();

    [Fact]
    public async Task Upgrades_over_the_server_connection_limit_get_503_with_a_clear_body_and_a_closed_connection_frees_its_slot()
    {
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using KestrelRealtimeHost host = await StartAsync(o => o.MaxConnections = 2, s => s.On(ServerEvents.Disconnect, _ => disconnected.TrySetResult()));
        await using Bystanders members = await Bystanders.ConnectAsync(host);

        (int status, string response) = await RawUpgradeRequest.SendAsync(host.Url + "?roomId=room1");
        Assert.Equal(503, status);
        Assert.Contains("The server is at its connection limit; retry later.", response, StringComparison.Ordinal);
        await members.AssertExchangeAsync();

        await members.Second.Connection.CloseAsync().DefaultTimeout();
        await disconnected.Task.DefaultTimeout("the server-side Disconnect hook");
        Assert.Equal(101, (await RawUpgradeRequest.SendAsync(host.Url + "?roomId=room1")).StatusCode);
    }

    [Fact]
    public async Task Upgrades_over_the_per_address_limit_get_429_with_a_clear_body_and_handshakes_count()
    {
        await using KestrelRealtimeHost host = await StartAsync(o => o.MaxConnectionsPerIpAddress = 3);
        await using Bystanders members = await Bystanders.ConnectAsync(host);
        await using RawProtocolClient handshaking = await RawProtocolClient.ConnectAsync(host.Url); // never sends hello

        (int status, string response) = await RawUpgradeRequest.SendAsync(host.Url + "?roomId=room1");
        Assert.Equal(429, status);
        Assert.Contains("Too many connections from this address; close some and retry later.", response, StringComparison.Ordinal);
        Assert.Contains("Content-Type: text/plain; charset=utf-8", response, StringComparison.OrdinalIgnoreCase);
        await members.AssertExchangeAsync();
    }

    [Fact]
    public async Task A_forged_origin_is_refused_with_403_and_a_listed_one_or_none_is_accepted()
    {
        await using KestrelRealtimeHost host = await StartAsync(o => o.AllowedOrigins.Add("https://app.example.com"));
        string url = host.Url + "?roomId=room1";

        (int status, string response) = await RawUpgradeRequest.SendAsync(url, ("Origin", "https://evil.example.net"));
        Assert.Equal(403, status);
        Assert.Contains("This origin is not allowed to connect (Realtime:AllowedOrigins).", response, StringComparison.Ordinal);
        Assert.Equal(403, (await RawUpgradeRequest.SendAsync(url, ("Origin", "https://app.example.com.evil.example.net"))).StatusCode);
        Assert.Equal(403, (await RawUpgradeRequest.SendAsync(url, ("Origin", "null"))).StatusCode);

        Assert.Equal(101, (await RawUpgradeRequest.SendAsync(url, ("Origin", "HTTPS://APP.EXAMPLE.COM"))).StatusCode);
        Assert.Equal(101, (await RawUpgradeRequest.SendAsync(url)).StatusCode);

        using var browserLike = new ClientWebSocket();
        browserLike.Options.AddSubProtocol(ProtocolLimits.SubProtocol);
        browserLike.Options.SetRequestHeader("Origin", "https://app.example.com");
        await browserLike.ConnectAsync(new Uri(url), CancellationToken.None).DefaultTimeout();
        Assert.Equal(WebSocketState.Open, browserLike.State);
    }

    [Theory]
    [InlineData("{\"t\":\"msg\",\"type\":\"flood\",\"data\":1}")]
    [InlineData("{\"t\":\"pong\"}")] // pongs count too: a pong flood is a flood
    public async Task A_sender_held_back_beyond_MaxThrottleTime_is_closed_with_1008_and_the_room_keeps_working(string frame)
    {
        await using KestrelRealtimeHost host = await StartAsync(o =>
        {
            // A slow refill, so that however slowly a loaded machine sends the flood, it cannot stay within the limit;
            // the flood is held back for longer than MaxThrottleTime without a break.
            o.MaxMessagesPerSecond = 2;
            o.MessageBurst = 20;
            o.MaxThrottleTime = TimeSpan.FromMilliseconds(300);
        });
        await using Bystanders members = await Bystanders.ConnectAsync(host);
        await using RawProtocolClient flooder = await RawProtocolClient.ConnectWelcomedAsync(host.Url);
        for (int i = 0; i < 40; i++)
        {
            await flooder.SendTextAsync(frame);
        }

        Assert.Equal(CloseCodes.PolicyViolation, await flooder.ReceiveCloseAsync());
        Assert.Equal("Message rate limit exceeded", flooder.Socket.CloseStatusDescription);
        await members.AssertExchangeAsync();
        _logs.AssertNoUnexpectedErrors();
    }

    [Fact]
    public async Task A_sender_over_the_rate_is_slowed_down_not_cut_off_and_loses_nothing()
    {
        // 150 messages as fast as the client can send them, against 50/s with a bucket of 30: the server stops reading
        // the sender between frames (TCP back-pressure) and relays every message, in order, in about 2.4 s.
        bool paused = await RelayAgainstFiftyPerSecondAsync(150, async (connection, i) => await connection.SendAsync(new { n = i }, "m"));
        Assert.True(paused, "the sender was never held back");
    }

    [Fact]
    public async Task A_sender_below_the_rate_limit_is_never_held_back_because_the_bucket_refills()
    {
        // 60 messages at about 25/s against a limit of 50/s with a bucket of 30: more than the bucket, so only the refill
        // lets them through without a pause. The bucket leaves room for sends that a loaded machine bunches together.
        bool paused = await RelayAgainstFiftyPerSecondAsync(60, async (connection, i) =>
        {
            connection.Send(new { n = i }, "m");
            await Task.Delay(40); // sleep-ok: the rate limit is a rate over real time; delays only ever get longer, which keeps the sender under it
        });
        Assert.False(paused, "a sender under the rate was held back");
    }

    /// <summary>One member sends <paramref name="count"/> messages through a 50/s limit (bucket 30); the other must get them all, in order.</summary>
    /// <returns>Whether the rate limit held the sender back.</returns>
    private async Task<bool> RelayAgainstFiftyPerSecondAsync(int count, Func<Connection, int, Task> send)
    {
        await using KestrelRealtimeHost host = await StartAsync(o =>
        {
            o.MaxMessagesPerSecond = 50;
            o.MessageBurst = 30;
        });
        using MetricCollector<long> pauses = ReceivePauses.Collect(host.Services);
        await using Bystanders members = await Bystanders.ConnectAsync(host);
        for (int i = 0; i < count; i++)
        {
            await send(members.First.Connection, i);
        }

        await members.Second.WaitForCountAsync("message:m", count);
        Assert.Equal(Enumerable.Range(0, count), members.Second.Messages.Where(m => m.Type == "m").Select(m => m.Data.GetProperty("n").GetInt32()));
        await members.AssertExchangeAsync();
        return pauses.Any("rate_limit");
    }

    private Task<KestrelRealtimeHost> StartAsync(Action<RealtimeOptions> configure, Action<RealtimeServer>? configureServer = null)
        => KestrelRealtimeHost.StartAsync(mode, configure, configureServer is null ? null : s =>
        {
            s.On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message));
            configureServer(s);
        }, logs: _logs);
}
