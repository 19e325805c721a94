using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Realtime.Protocol;
using Realtime.Server;

namespace Realtime.Server.Tests;

/// <summary>Each of the five disconnect reasons, produced by its real cause on real sockets, as both sides report it.</summary>
public abstract class DisconnectReasonTests(HostMode mode)
{
    /// <summary>Against <c>MapRealtime</c>.</summary>
    public sealed class OnEndpoint() : DisconnectReasonTests(HostMode.Endpoint);

    /// <summary>Against the dense listener (<c>ListenOptions.UseRealtime</c>).</summary>
    public sealed class OnDenseListener() : DisconnectReasonTests(HostMode.Dense);

    [Fact]
    public async Task ClientDisconnect_when_the_client_closes()
    {
        await using var probe = await ReasonProbe.StartAsync(mode);
        Connection ann = await probe.ConnectAsync();
        var events = new ConnectionRecorder(ann);
        await ann.CloseAsync().DefaultTimeout();
        await events.WaitForEventAsync("disconnect:ClientDisconnect");
        Assert.Equal(DisconnectReason.ClientDisconnect, await probe.ServerReason.DefaultTimeout());
        await ann.DisposeAsync();
    }

    [Fact]
    public async Task ServerDisconnect_when_the_server_app_closes_the_connection()
    {
        await using var probe = await ReasonProbe.StartAsync(mode);
        await using Connection ann = await probe.ConnectAsync();
        var events = new ConnectionRecorder(ann);
        (await probe.Host.Connections.WaitAsync(ann.Id!)).Close();
        await events.WaitForEventAsync("disconnect:ServerDisconnect");
        Assert.Equal(DisconnectReason.ServerDisconnect, await probe.ServerReason.DefaultTimeout());
    }

    [Fact]
    public async Task PingTimeout_on_the_server_when_the_client_never_answers_pings()
    {
        await using var probe = await ReasonProbe.StartAsync(mode, o =>
        {
            o.PingInterval = TimeSpan.FromMilliseconds(100);
            o.PingTimeout = TimeSpan.FromMilliseconds(200);
        });
        await using RawProtocolClient raw = await RawProtocolClient.ConnectAsync(probe.Host.Url);
        await raw.HelloAsync();
        Assert.StartsWith("{\"t\":\"welcome\"", await raw.ReceiveAsync(), StringComparison.Ordinal);
        Assert.Equal("{\"t\":\"ping\"}", await raw.ReceiveAsync());
        Assert.Equal(CloseCodes.PingTimeout, await raw.ReceiveCloseAsync());
        Assert.Equal(DisconnectReason.PingTimeout, await probe.ServerReason.DefaultTimeout());
    }

    [Fact]
    public async Task A_client_that_answers_pings_stays_connected_through_many_heartbeats()
    {
        await using var probe = await ReasonProbe.StartAsync(mode, o =>
        {
            // Many heartbeats (a ping every 100 ms), with a timeout generous enough for a loaded 2-core machine.
            o.PingInterval = TimeSpan.FromMilliseconds(100);
            o.PingTimeout = TimeSpan.FromSeconds(1);
        });
        await using RawProtocolClient watcher = await RawProtocolClient.ConnectWelcomedAsync(probe.Host.Url);
        await using Connection ann = await probe.ConnectAsync();

        // The raw watcher answers 25 pings by hand; meanwhile the C# client has seen as many and must still be up.
        for (int i = 0; i < 25; i++)
        {
            await watcher.ReceiveStartingWithAsync("{\"t\":\"ping\"}");
            await watcher.SendTextAsync("{\"t\":\"pong\"}");
        }

        Assert.True(ann.Connected);
        Assert.False(probe.ServerReason.IsCompleted);
    }

    [Fact]
    public async Task PingTimeout_on_the_client_when_the_server_stops_pinging_and_it_reconnects()
    {
        await using var silent = await SilentServer.StartAsync();
        await using Connection ann = await new Client.Client(silent.Url.ToString(), new ClientOptions { ReconnectionDelay = TimeSpan.FromMilliseconds(10) })
            .ConnectAsync("room1").DefaultTimeout();
        var events = new ConnectionRecorder(ann);
        await events.WaitForEventAsync("disconnect:PingTimeout");
        await events.WaitForEventAsync("reconnectAttempt:1");
    }

    [Fact]
    public async Task TransportClose_when_the_server_goes_away()
    {
        await using var probe = await ReasonProbe.StartAsync(mode);
        await using Connection ann = await probe.ConnectAsync();
        var events = new ConnectionRecorder(ann);
        await probe.Host.StopAsync();
        await events.WaitForEventAsync("disconnect:TransportClose");
        Assert.Equal(DisconnectReason.TransportClose, await probe.ServerReason.DefaultTimeout());
    }

    [Fact]
    public async Task TransportClose_on_the_server_when_the_client_socket_vanishes()
    {
        await using var probe = await ReasonProbe.StartAsync(mode);
        RawProtocolClient raw = await RawProtocolClient.ConnectWelcomedAsync(probe.Host.Url);
        await raw.DisposeAsync(); // abort: TCP goes away without a close frame
        Assert.Equal(DisconnectReason.TransportClose, await probe.ServerReason.DefaultTimeout());
    }

    [Fact]
    public async Task TransportError_on_both_sides_for_a_protocol_violation()
    {
        await using var probe = await ReasonProbe.StartAsync(mode, o => o.MaxMessageSize = 1024);
        await using Connection ann = await probe.ConnectAsync();
        var events = new ConnectionRecorder(ann);
        ann.Send(new string('x', 2000), "too-big");
        await events.WaitForEventAsync("disconnect:TransportError");
        Assert.Equal(DisconnectReason.TransportError, await probe.ServerReason.DefaultTimeout());
        await events.WaitForEventAsync("reconnectAttempt:1");
    }

    /// <summary>A Kestrel host whose Disconnect hook reports the server-side reason of the first disconnect.</summary>
    private sealed class ReasonProbe : IAsyncDisposable
    {
        private readonly TaskCompletionSource<DisconnectReason> _reason = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public KestrelRealtimeHost Host { get; private set; } = null!;

        public Task<DisconnectReason> ServerReason => _reason.Task;

        public static async Task<ReasonProbe> StartAsync(HostMode mode, Action<RealtimeOptions>? options = null)
        {
            var probe = new ReasonProbe();
            probe.Host = await KestrelRealtimeHost.StartAsync(mode, options, s => s
                .On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message))
                .On(ServerEvents.Disconnect, ctx => probe._reason.TrySetResult(ctx.Reason)));
            return probe;
        }

        public Task<Connection> ConnectAsync()
            => new Client.Client(Host.Url, new ClientOptions { ReconnectionDelay = TimeSpan.FromMilliseconds(50) }).ConnectAsync("room1").DefaultTimeout();

        public ValueTask DisposeAsync() => Host.DisposeAsync();
    }

    /// <summary>A server that completes the handshake with a short heartbeat, then never pings.</summary>
    private static class SilentServer
    {
        public static Task<RealtimeTestHost> StartAsync() => RealtimeTestHost.StartAppAsync(_ => { }, app =>
        {
            app.UseWebSockets();
            app.Run(async context =>
            {
                using WebSocket socket = await context.WebSockets.AcceptWebSocketAsync(ProtocolLimits.SubProtocol);
                var buffer = new byte[4096];
                await socket.ReceiveAsync(buffer, context.RequestAborted); // hello
                byte[] welcome = "{\"t\":\"welcome\",\"id\":\"AAAAAAAAAAAAAAAAAAAA\",\"roomId\":\"room1\",\"pingInterval\":100,\"pingTimeout\":100,\"maxMessageSize\":1024}"u8.ToArray();
                await socket.SendAsync(welcome, WebSocketMessageType.Text, true, context.RequestAborted);
                try
                {
                    while (!(await socket.ReceiveAsync(buffer, context.RequestAborted)).CloseStatus.HasValue)
                    {
                    }
                }
                catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
                {
                    // The client aborted: expected.
                }
            });
        }).DefaultTimeout("Kestrel to start");
    }
}
