using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Realtime.Protocol;
using Realtime.Server;

namespace Realtime.Server.Tests;

/// <summary>
/// <c>realtime.server.refusals</c>, by <c>realtime.refusal.reason</c>: one refusal of each kind a client can cause, on an endpoint and
/// on the dense listener, each counted once and under its own reason.
/// </summary>
public class RefusalMetricsTests
{
    private const string Reason = "realtime.refusal.reason";

    [Fact]
    public async Task Refused_upgrades_and_handshakes_are_counted_by_reason()
    {
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(o =>
        {
            o.AllowedOrigins.Add("https://app.example.com");
        }, server =>
        {
            server.Use(ServerEvents.Connect, (ctx, next) => ctx.Connection.Query["mode"] switch
            {
                "deny" => ValueTask.CompletedTask,
                "throw" => throw new InvalidOperationException("middleware failure"),
                _ => next(),
            });
        });
        host.ExpectErrors("ConnectMiddlewareFailed");
        using var instruments = new ServerInstruments(host.Services);

        // HTTP refusals of the upgrade request.
        Assert.Equal(403, (await RawUpgradeRequest.SendAsync(host.Url + "?roomId=room1", ("Origin", "https://evil.example.net"))).StatusCode);
        Assert.Equal(1, Count(instruments, "origin"));
        using (var http = new HttpClient())
        {
            HttpResponseMessage notWebSocket = await http.GetAsync($"http://127.0.0.1:{host.Port}/realtime?roomId=room1").DefaultTimeout("a plain GET");
            Assert.Equal(400, (int)notWebSocket.StatusCode);
        }

        Assert.Equal(1, Count(instruments, "bad_request"));

        // Handshakes refused: an invalid room, connect middleware saying no, and connect middleware failing.
        Assert.Equal(CloseCodes.HandshakeRejected, await HandshakeAsync(host, "roomId="));
        await ServerInstruments.WaitForSumAsync(instruments.Refusals, 2, (Reason, "bad_request"));
        Assert.Equal(CloseCodes.HandshakeRejected, await HandshakeAsync(host, "roomId=room1&mode=deny"));
        await ServerInstruments.WaitForSumAsync(instruments.Refusals, 1, (Reason, "rejected"));
        Assert.Equal(CloseCodes.HandshakeRejected, await HandshakeAsync(host, "roomId=room1&mode=throw"));
        await ServerInstruments.WaitForSumAsync(instruments.Refusals, 1, (Reason, "error"));

        // A client that goes away before it says hello (one that never says it: A_client_that_never_says_hello_is_counted_as_a_handshake_timeout).
        await using (RawProtocolClient gone = await RawProtocolClient.ConnectAsync(host.Url))
        {
            gone.Socket.Abort();
        }

        await ServerInstruments.WaitForSumAsync(instruments.Refusals, 1, (Reason, "abandoned"));

        Assert.Equal(
            new (string, long)[] { ("abandoned", 1), ("bad_request", 2), ("error", 1), ("origin", 1), ("rejected", 1) },
            instruments.Refusals.GetMeasurementSnapshot().GroupBy(m => (string)m.Tags[Reason]!).Select(g => (g.Key, g.Sum(m => m.Value))).OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.All(instruments.Refusals.GetMeasurementSnapshot(), m => Assert.Single(m.Tags));
        Assert.Empty(instruments.Connections.GetMeasurementSnapshot()); // none of them was ever a connection
        Assert.Empty(instruments.Disconnects.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task A_client_that_never_says_hello_is_counted_as_a_handshake_timeout()
    {
        // A host of its own: a timeout this short would also cut the other tests' handshakes on a loaded machine.
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(o => o.HandshakeTimeout = TimeSpan.FromMilliseconds(500));
        using var instruments = new ServerInstruments(host.Services);

        await using (RawProtocolClient silent = await RawProtocolClient.ConnectAsync(host.Url))
        {
            Assert.Equal(CloseCodes.HandshakeTimeout, await silent.ReceiveCloseAsync());
        }

        await ServerInstruments.WaitForSumAsync(instruments.Refusals, 1, (Reason, "handshake_timeout"));
        Assert.Equal(1, ServerInstruments.Sum(instruments.Refusals));
        Assert.Empty(instruments.Disconnects.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task A_connection_whose_room_join_fails_is_a_refusal_and_never_a_disconnect()
    {
        await using RealtimeTestHost host = await RealtimeTestHost.StartAppAsync(
            builder =>
            {
                builder.Services.AddRealtime();
                builder.Services.AddSingleton<RealtimeBackplane>(new JoinFailingBackplane());
            },
            app => app.MapRealtime(RealtimeTestHost.DefaultPath)).DefaultTimeout("Kestrel to start");
        using var instruments = new ServerInstruments(host.Services);

        Assert.Equal(CloseCodes.InternalError, await HandshakeAsync(host.Url.ToString(), "roomId=room1"));

        await ServerInstruments.WaitForSumAsync(instruments.Refusals, 1, (Reason, "error"));
        Assert.Equal(1, ServerInstruments.Sum(instruments.Refusals));
        Assert.Equal(0, ServerInstruments.Sum(instruments.Connections)); // counted while it was registered, then withdrawn
        Assert.Empty(instruments.Disconnects.GetMeasurementSnapshot());
        Assert.Empty(instruments.ConnectionDuration.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task Upgrades_over_the_connection_limits_are_counted_by_which_limit()
    {
        await using (KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(o => o.MaxConnections = 1))
        {
            using var instruments = new ServerInstruments(host.Services);
            await using RawProtocolClient member = await RawProtocolClient.ConnectWelcomedAsync(host.Url);
            Assert.Equal(503, (await RawUpgradeRequest.SendAsync(host.Url + "?roomId=room1")).StatusCode);
            Assert.Equal(1, Count(instruments, "connection_limit"));
            Assert.Single(instruments.Refusals.GetMeasurementSnapshot());
        }

        await using (KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(o => o.MaxConnectionsPerIpAddress = 1))
        {
            using var instruments = new ServerInstruments(host.Services);
            await using RawProtocolClient member = await RawProtocolClient.ConnectWelcomedAsync(host.Url);
            Assert.Equal(429, (await RawUpgradeRequest.SendAsync(host.Url + "?roomId=room1")).StatusCode);
            Assert.Equal(1, Count(instruments, "address_limit"));
            Assert.Single(instruments.Refusals.GetMeasurementSnapshot());
        }
    }

    [Fact]
    public async Task The_dense_listener_counts_its_own_refusals_of_a_request_head()
    {
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(HostMode.Dense, o =>
        {
            o.AllowedOrigins.Add("https://app.example.com");
            o.HandshakeTimeout = TimeSpan.FromMilliseconds(500);
        });
        using var instruments = new ServerInstruments(host.Services);

        // Refused by the admission it shares with endpoints, then by its own parser.
        Assert.Equal(403, (await RawUpgradeRequest.SendAsync(host.Url + "?roomId=room1", ("Origin", "https://evil.example.net"))).StatusCode);
        Assert.Equal(1, Count(instruments, "origin"));
        Assert.StartsWith("HTTP/1.1 400", await ExchangeAsync(host.Port, "NOT HTTP AT ALL\r\n\r\n"), StringComparison.Ordinal);
        Assert.Equal(1, Count(instruments, "bad_request"));

        // A head that never comes, and one that stops halfway with the connection.
        Assert.Equal(string.Empty, await ExchangeAsync(host.Port, string.Empty)); // the listener closes it after the timeout, answering nothing
        await ServerInstruments.WaitForSumAsync(instruments.Refusals, 1, (Reason, "handshake_timeout"));
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync("127.0.0.1", host.Port).DefaultTimeout("a TCP connection");
            await tcp.GetStream().WriteAsync(Encoding.ASCII.GetBytes("GET /realtime?roomId=room1 HTTP/1.1\r\nHost: x\r\n")).AsTask().DefaultTimeout("half a head");
            tcp.Client.Shutdown(SocketShutdown.Send);
            await ServerInstruments.WaitForSumAsync(instruments.Refusals, 1, (Reason, "abandoned"));
        }

        Assert.Equal(4, ServerInstruments.Sum(instruments.Refusals));
    }

    [Fact]
    public async Task A_handshake_cut_by_the_shutdown_is_counted_as_shutting_down()
    {
        KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync();
        using var instruments = new ServerInstruments(host.Services);

        // On the compatibility endpoint the server speaks first: its open packet says the connection is handshaking.
        await using SocketIoTestClient handshaking = await SocketIoTestClient.ConnectAsync(host.CollaborationUrl, $"id={SocketIoTestClient.NewId()}&roomId=room1");
        Task<int> closed = handshaking.ReceiveCloseAsync(); // it never sends CONNECT

        await host.DisposeAsync(); // the stop closes the handshaking connection with 1001, and waits for it
        Assert.Equal(CloseCodes.GoingAway, await closed.DefaultTimeout("the close"));
        await ServerInstruments.WaitForSumAsync(instruments.Refusals, 1, (Reason, "shutting_down"));
        Assert.Equal(1, ServerInstruments.Sum(instruments.Refusals));
    }

    private static long Count(ServerInstruments instruments, string reason) => ServerInstruments.Sum(instruments.Refusals, (Reason, reason));

    /// <summary>Opens a WebSocket, sends <c>hello</c> and reads up to the close: its code.</summary>
    private static Task<int> HandshakeAsync(KestrelRealtimeHost host, string query) => HandshakeAsync(host.Url, query);

    private static async Task<int> HandshakeAsync(string url, string query)
    {
        await using RawProtocolClient client = await RawProtocolClient.ConnectAsync(url, query);
        await client.HelloAsync();
        return await client.ReceiveCloseAsync();
    }

    /// <summary>Writes <paramref name="request"/> on a new TCP connection and reads until the server closes it: the whole answer.</summary>
    private static async Task<string> ExchangeAsync(int port, string request)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port).DefaultTimeout("a TCP connection");
        NetworkStream stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request)).AsTask().DefaultTimeout("the request");
        var answer = new StringBuilder();
        var buffer = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(buffer).AsTask().DefaultTimeout("the answer")) > 0)
        {
            answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return answer.ToString();
    }

    /// <summary>A backplane on which every room join fails (Redis down at the wrong moment, say); nothing else is ever reached.</summary>
    private sealed class JoinFailingBackplane : RealtimeBackplane
    {
        public override ValueTask AddMemberAsync(string roomId, string connectionId, CancellationToken cancellationToken)
            => ValueTask.FromException(new InvalidOperationException("The backplane is down."));

        public override ValueTask RemoveMemberAsync(string roomId, string connectionId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public override ValueTask SubscribeAsync(string roomId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public override ValueTask UnsubscribeAsync(string roomId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public override ValueTask PublishAsync(RoomBroadcast broadcast, CancellationToken cancellationToken) => throw new NotSupportedException();

        public override ValueTask<bool> SendAsync(string connectionId, Message message, CancellationToken cancellationToken) => throw new NotSupportedException();

        public override ValueTask<bool> CloseAsync(string connectionId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public override ValueTask<int> GetConnectionCountAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public override ValueTask<IReadOnlyCollection<string>> GetRoomsAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public override ValueTask<IReadOnlyCollection<string>> GetConnectionIdsAsync(string roomId, CancellationToken cancellationToken)
            => throw new NotSupportedException();
    }
}
