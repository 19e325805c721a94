using Realtime.Server;

namespace Realtime.Server.Tests;

public abstract class ClientLimitsTests(HostMode mode)
{
    /// <summary>Against <c>MapRealtime</c>.</summary>
    public sealed class OnEndpoint() : ClientLimitsTests(HostMode.Endpoint);

    /// <summary>Against the dense listener (<c>ListenOptions.UseRealtime</c>).</summary>
    public sealed class OnDenseListener() : ClientLimitsTests(HostMode.Dense);

    [Fact]
    public async Task An_attempt_that_exceeds_Timeout_fails_with_RealtimeConnectException()
    {
        // A server whose connect middleware never finishes (its own handshake timeout is far away).
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(mode, configureServer: s => s.Use(ServerEvents.Connect,
            async (ctx, next) => await Task.Delay(Timeout.Infinite, ctx.HttpContext.RequestAborted))); // sleep-ok: connect middleware that never finishes
        var client = new Client.Client(host.Url, new ClientOptions { Timeout = TimeSpan.FromMilliseconds(300) });

        var ex = await Assert.ThrowsAsync<RealtimeConnectException>(() => client.ConnectAsync("room1").DefaultTimeout());
        Assert.Contains("timed out", ex.Message, StringComparison.Ordinal);
        Assert.False(ex.IsRejection);
    }

    [Fact]
    public async Task Send_throws_when_MaxBufferedMessages_are_waiting_and_SendAsync_waits_instead()
    {
        (string url, _) = await KestrelRealtimeHost.UnusedEndpointAsync();

        // Nothing listens: every message stays buffered while the connection retries.
        await using Connection offline = new Client.Client(url, new ClientOptions { MaxBufferedMessages = 3, ReconnectionDelay = TimeSpan.FromSeconds(30) }).Connect("room1");
        offline.Send(1);
        offline.Send(2);
        offline.Send(3);
        var full = Assert.Throws<RealtimeException>(() => offline.Send(4));
        Assert.Contains("MaxBufferedMessages", full.Message, StringComparison.Ordinal);

        using var cts = new CancellationTokenSource();
        Task waiting = offline.SendAsync(4, cancellationToken: cts.Token);
        Assert.False(waiting.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.DefaultTimeout());
    }
}
