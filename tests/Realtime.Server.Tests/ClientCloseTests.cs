namespace Realtime.Server.Tests;

/// <summary>CloseAsync's cancellation token stops the wait, not the close.</summary>
public abstract class ClientCloseTests(HostMode mode)
{
    /// <summary>Against <c>MapRealtime</c>.</summary>
    public sealed class OnEndpoint() : ClientCloseTests(HostMode.Endpoint);

    /// <summary>Against the dense listener (<c>ListenOptions.UseRealtime</c>).</summary>
    public sealed class OnDenseListener() : ClientCloseTests(HostMode.Dense);

    [Fact]
    public async Task CloseAsync_gives_up_waiting_when_its_token_is_cancelled_and_the_close_still_completes()
    {
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(mode);
        await using FaultProxy proxy = await FaultProxy.StartAsync(new Uri(host.Url));
        var client = new Client.Client(proxy.Url.ToString());
        Connection connection = await client.ConnectAsync("room1").DefaultTimeout();
        var events = new ConnectionRecorder(connection);

        // The server's answer to our close frame never arrives: the close can only end at the client's 5 s deadline.
        proxy.Blackhole(FaultDirection.ServerToClient);
        using var impatient = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connection.CloseAsync(impatient.Token));
        Assert.False(connection.RunCompletion.IsCompleted);

        await connection.CloseAsync().DefaultTimeout("the close to reach its deadline");
        await connection.DisposeAsync();
        Assert.Equal(["disconnect:ClientDisconnect"], events.Events);
    }
}
