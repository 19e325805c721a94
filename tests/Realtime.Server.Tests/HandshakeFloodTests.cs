using Realtime.Protocol;

namespace Realtime.Server.Tests;

public abstract class HandshakeFloodTests(HostMode mode)
{
    /// <summary>Against <c>MapRealtime</c>.</summary>
    public sealed class OnEndpoint() : HandshakeFloodTests(HostMode.Endpoint);

    /// <summary>Against the dense listener (<c>ListenOptions.UseRealtime</c>).</summary>
    public sealed class OnDenseListener() : HandshakeFloodTests(HostMode.Dense);

    [Fact]
    public async Task Hundreds_of_sockets_that_never_send_hello_are_shed_by_the_handshake_timeout_and_members_keep_talking()
    {
        const int Flood = 300;
        var logs = new LogSink();
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(mode, o =>
        {
            o.HandshakeTimeout = TimeSpan.FromSeconds(2);
            o.MaxConnections = Flood + 2; // the flood fills the server: handshakes count towards the limit
        }, logs: logs);
        await using Bystanders members = await Bystanders.ConnectAsync(host);

        RawProtocolClient[] flood = await Task.WhenAll(Enumerable.Range(0, Flood).Select(_ => RawProtocolClient.ConnectAsync(host.Url)));
        try
        {
            await members.AssertExchangeAsync();
            Assert.Equal(503, (await RawUpgradeRequest.SendAsync(host.Url + "?roomId=room1")).StatusCode);

            int[] codes = await Task.WhenAll(flood.Select(f => f.ReceiveCloseAsync()));
            Assert.All(codes, code => Assert.Equal(CloseCodes.HandshakeTimeout, code));
        }
        finally
        {
            foreach (RawProtocolClient socket in flood)
            {
                await socket.DisposeAsync();
            }
        }

        // Shed completely: the handshakes gave their slots back, and the established members never noticed.
        await members.AssertExchangeAsync();
        Assert.Equal(2, host.Server.ConnectionCount);
        await using Connection newcomer = await new Client.Client(host.Url).ConnectAsync("room1").DefaultTimeout();
        Assert.Equal(Flood, logs.Entries.Count(e => e.EventName == "HandshakeTimeout"));
        logs.AssertNoUnexpectedErrors();
    }
}
