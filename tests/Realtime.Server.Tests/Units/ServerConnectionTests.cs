using System.Net.WebSockets;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Realtime.Protocol;
using Realtime.Server;
using Realtime.Server.Internal.Protocols;

namespace Realtime.Server.Tests.Units;

/// <summary>One server connection's queues, size rules and failure handling, over in-memory pipes.</summary>
public class ServerConnectionTests
{
    private static readonly UpgradeRequest Room1 = new(null, "room1", ConnectionId: null, new Dictionary<string, string>(), HandshakeRefusal: null);

    [Fact]
    public async Task The_heartbeat_tick_copies_no_connection_list()
    {
        await using var harness = new ServerHarness();
        const int Connections = 5000;
        for (int i = 0; i < Connections; i++)
        {
            var socket = WebSocket.CreateFromStream(Stream.Null, new WebSocketCreationOptions { IsServer = true });
            harness.Server.Register(new ServerConnection(harness.Server, harness.Server.ProtocolV1, socket, Room1, new ClaimsPrincipal()));
        }

        long now = harness.Time.GetTimestamp();
        harness.Server.OnHeartbeatTick(now); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        harness.Server.OnHeartbeatTick(now);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // A snapshot of 5000 references is at least 40 000 bytes; enumerating the dictionary allocates one enumerator.
        Assert.True(allocated < 1024, $"one tick over {Connections} connections allocated {allocated} bytes");
    }

    [Fact]
    public async Task SendAsync_to_a_connection_still_being_accepted_answers_false_and_nothing_reaches_it_before_its_welcome()
    {
        // The backplane holds the join: the connection is registered (found by id) but not yet in its room, and has no welcome.
        var backplane = new JoinGatedBackplane();
        await using var harness = new ServerHarness(backplane: backplane);
        InMemoryClient client = harness.Connect();
        await client.SendTextAsync("{\"t\":\"hello\"}");
        await backplane.Joining.Task.DefaultTimeout("the join to reach the backplane");
        try
        {
            Assert.Same(client.Connection, harness.Server.GetConnection(client.Connection.Id));
            Assert.False(await harness.Server.SendAsync(client.Connection.Id, 1, "early").DefaultTimeout(), "a message that was dropped was reported as sent");
        }
        finally
        {
            backplane.Join.TrySetResult(); // a failed assertion must not leave the join hanging
        }

        Assert.StartsWith("{\"t\":\"welcome\"", await client.ReceiveTextAsync(), StringComparison.Ordinal);
        Assert.True(await harness.Server.SendAsync(client.Connection.Id, 2, "late").DefaultTimeout());
        Assert.Equal("{\"t\":\"msg\",\"type\":\"late\",\"data\":2}", await client.ReceiveTextAsync());
    }

    /// <summary>One node, in memory, whose joins wait until the test lets them through.</summary>
    private sealed class JoinGatedBackplane : RealtimeBackplane
    {
        public TaskCompletionSource Joining { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Join { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override ValueTask SubscribeAsync(string roomId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public override ValueTask UnsubscribeAsync(string roomId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public override ValueTask PublishAsync(RoomBroadcast broadcast, CancellationToken cancellationToken)
        {
            DeliverLocally(broadcast);
            return ValueTask.CompletedTask;
        }

        public override ValueTask<bool> SendAsync(string connectionId, Message message, CancellationToken cancellationToken) => ValueTask.FromResult(false);

        public override ValueTask<bool> CloseAsync(string connectionId, CancellationToken cancellationToken) => ValueTask.FromResult(false);

        public override async ValueTask AddMemberAsync(string roomId, string connectionId, CancellationToken cancellationToken)
        {
            Joining.TrySetResult();
            await Join.Task;
        }

        public override ValueTask RemoveMemberAsync(string roomId, string connectionId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public override ValueTask<IReadOnlyCollection<string>> GetRoomsAsync(CancellationToken cancellationToken) => ValueTask.FromResult<IReadOnlyCollection<string>>(LocalRooms);

        public override ValueTask<IReadOnlyCollection<string>> GetConnectionIdsAsync(string roomId, CancellationToken cancellationToken)
            => ValueTask.FromResult(GetLocalConnectionIds(roomId));

        public override ValueTask<int> GetConnectionCountAsync(CancellationToken cancellationToken) => ValueTask.FromResult(LocalConnectionCount);
    }

    [Fact]
    public async Task An_application_message_larger_than_clients_accept_is_refused_at_the_call_naming_the_option()
    {
        await using var harness = new ServerHarness(o => o.MaxMessageSize = 4096);
        InMemoryClient client = await harness.ConnectWelcomedAsync();
        string tooBig = new('x', 4096 + ProtocolLimits.EnvelopeAllowance);

        ArgumentException send = Assert.Throws<ArgumentException>(() => client.Connection.Send(tooBig, "big"));
        Assert.Contains("Realtime:MaxMessageSize", send.Message, StringComparison.Ordinal);
        ArgumentException broadcast = Assert.Throws<ArgumentException>(() => harness.Server.Broadcast("room1", tooBig, "big"));
        Assert.Contains("Realtime:MaxMessageSize", broadcast.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => client.Connection.Broadcast(tooBig, "big", includeSelf: true));

        // The largest message a client may send is still relayed whole: the envelope fits the allowance.
        string largest = new('y', 4096 - 2);
        client.Connection.Send(largest, "ok");
        string? received = await client.ReceiveTextAsync();
        Assert.Contains(largest, received, StringComparison.Ordinal);
        Assert.True(client.Connection.Connected);
    }

    [Fact]
    public async Task A_programming_error_under_the_connection_is_logged_as_an_error_and_closes_with_1011()
    {
        await using var harness = new ServerHarness();
        var socket = new BrokenWebSocket();
        var connection = new ServerConnection(harness.Server, harness.Server.ProtocolV1, socket, Room1, new ClaimsPrincipal());
        Task run = connection.RunAsync(new DefaultHttpContext());

        LogSink.LogEntry entry = await harness.Logs.WaitForAsync("UnexpectedError");
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Error, entry.Level);
        Assert.IsType<InvalidOperationException>(entry.Exception);
        Assert.Equal(CloseCodes.InternalError, await socket.CloseSent.Task.DefaultTimeout("the close frame"));
        Assert.DoesNotContain(harness.Logs.Entries, e => e.EventName == "TransportFailed");
        harness.Time.Advance(TimeSpan.FromMinutes(1));
        await run.DefaultTimeout("the connection to end");
    }

    [Fact]
    public async Task The_inbound_queue_is_bounded_by_bytes_as_well_as_by_count()
    {
        // 20 messages of 512 KiB are far fewer than the 128 the queue counts, but 10 MiB: past 4 MiB the server stops reading.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var processed = new WatchedList<int>();
        await using var harness = new ServerHarness(o => o.MaxMessageSize = 600 * 1024, s => s.On(ServerEvents.Message, async ctx =>
        {
            await gate.Task;
            processed.Add(ctx.Type!.Length);
        }));
        using var pauses = ReceivePauses.Collect(harness.Services);
        InMemoryClient client = await harness.ConnectWelcomedAsync();
        string payload = new('z', 512 * 1024);
        Task sending = Task.Run(async () =>
        {
            for (int i = 0; i < 20; i++)
            {
                await client.SendTextAsync("{\"t\":\"msg\",\"type\":\"" + new string('m', i + 1) + "\",\"data\":\"" + payload + "\"}");
            }
        });
        try
        {
            await pauses.WaitForMeasurementsAsync(1).DefaultTimeout("the receive loop to stop reading");
            LogSink.LogEntry full = await harness.Logs.WaitForAsync("InboundQueueFull"); // logged as it stops reading
            long queued = (long)full.Value("QueuedBytes")!;
            int count = (int)full.Value("QueuedMessages")!;
            Assert.True(queued <= 4 * 1024 * 1024, $"{queued} bytes in {count} messages wait in the inbound queue");
            Assert.True(count < 20, $"{count} messages wait");
        }
        finally
        {
            gate.TrySetResult();
        }

        await sending.DefaultTimeout("the client's sends");
        await processed.WaitForAsync(p => p.Count == 20, "20 processed messages");
        Assert.Equal(Enumerable.Range(1, 20), processed.Items); // all of them, in order
    }

    [Fact]
    public async Task A_client_that_stops_reading_is_closed_with_4003_once_its_outbound_queue_is_full()
    {
        await using var harness = new ServerHarness(o => o.MaxQueuedMessages = 8);
        InMemoryClient client = await harness.ConnectWelcomedAsync();

        // The client reads nothing: the pipe fills (64 KiB), the send loop waits, and the queue of 8 overflows.
        string chunk = new('c', 2048);
        for (int i = 0; i < 100 && client.Connection.Connected; i++)
        {
            client.Connection.Send(chunk, "fill");
        }

        Assert.False(client.Connection.Connected);
        LogSink.LogEntry slow = await harness.Logs.WaitForAsync("SlowConsumer");
        Assert.True((int)slow.Value("QueuedFrames")! <= 8, slow.Message);
        Assert.Equal(CloseCodes.SlowConsumer, await client.ReceiveCloseAsync()); // what was queued is discarded; the close still arrives
    }

    [Fact]
    public async Task One_frame_larger_than_the_byte_bound_still_fits_an_empty_queue()
    {
        await using var harness = new ServerHarness(o =>
        {
            o.MaxQueuedBytes = 1024;
            o.MaxMessageSize = 64 * 1024;
        });
        InMemoryClient client = await harness.ConnectWelcomedAsync();
        string big = new('b', 32 * 1024);
        client.Connection.Send(big, "big");
        Assert.Contains(big, await client.ReceiveTextAsync(), StringComparison.Ordinal);
        Assert.True(client.Connection.Connected);
    }

    /// <summary>A WebSocket whose receive fails with a programming error (as two concurrent receives would), and that records the close it is asked to send.</summary>
    private sealed class BrokenWebSocket : WebSocket
    {
        public TaskCompletionSource<int> CloseSent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override WebSocketCloseStatus? CloseStatus => null;

        public override string? CloseStatusDescription => null;

        public override WebSocketState State => CloseSent.Task.IsCompleted ? WebSocketState.CloseSent : WebSocketState.Open;

        public override string? SubProtocol => null;

        public override ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
            => ValueTask.FromException<ValueWebSocketReceiveResult>(new InvalidOperationException("There is already one outstanding 'ReceiveAsync' call."));

        public override Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
            => Task.FromException<WebSocketReceiveResult>(new InvalidOperationException("There is already one outstanding 'ReceiveAsync' call."));

        public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
            => Task.CompletedTask;

        public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
        {
            CloseSent.TrySetResult((int)closeStatus);
            return Task.CompletedTask;
        }

        public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
            => CloseOutputAsync(closeStatus, statusDescription, cancellationToken);

        public override void Abort()
        {
        }

        public override void Dispose()
        {
        }
    }
}
