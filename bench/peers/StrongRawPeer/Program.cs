using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Threading.Channels;

// The raw reference written for throughput, with the same obligations as Realtime's relay host where the load test can see
// them: a text message starting with 'e' goes back to its sender; 'h' is the answer to the server's "ping" heartbeat; any other
// is sent to every other member of the room named by ?room=. Each connection owns a bounded queue (4096 frames, as Realtime's
// default) drained by its one send loop; a full queue aborts that connection alone. A broadcast is copied once and the same
// array is queued to every member, found by a lock-free walk over the room's copy-on-write member array. An idle connection
// waits with a zero-byte read, so it holds no receive buffer. Every 5 s each connection is sent "ping"; one silent for 10 s
// is aborted.
WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning); // problems only, on the console
WebApplication app = builder.Build();
var rooms = new ConcurrentDictionary<string, Room>(StringComparer.Ordinal);
var everyone = new ConcurrentDictionary<Member, byte>();
using var heartbeat = new Heartbeat(everyone, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10));
app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
app.Map("/ws", async context =>
{
    if (!context.WebSockets.IsWebSocketRequest)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        return;
    }

    Room room = rooms.GetOrAdd(context.Request.Query["room"].ToString(), _ => new Room());
    using WebSocket socket = await context.WebSockets.AcceptWebSocketAsync();
    var self = new Member(socket);
    room.Add(self);
    everyone.TryAdd(self, 0);
    Task sending = self.SendLoopAsync();
    try
    {
        await ReceiveLoopAsync(self, room);
    }
    finally
    {
        room.Remove(self);
        everyone.TryRemove(self, out _);
        self.Complete();
        await sending;
    }
});
app.Run();

static async Task ReceiveLoopAsync(Member self, Room room)
{
    WebSocket socket = self.Socket;
    try
    {
        while (true)
        {
            // Idle: wait for data without a buffer. Then read the whole message into a pooled one.
            ValueWebSocketReceiveResult first = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
            if (first.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                return;
            }

            byte[] buffer = ArrayPool<byte>.Shared.Rent(4096);
            try
            {
                int count = 0;
                ValueWebSocketReceiveResult result = first;
                while (!result.EndOfMessage)
                {
                    if (count == buffer.Length)
                    {
                        return; // larger than the reference accepts: drop the connection
                    }

                    result = await socket.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None);
                    count += result.Count;
                }

                self.Seen();
                if (count == 0)
                {
                    continue;
                }

                switch (buffer[0])
                {
                    case (byte)'h':
                        break;
                    case (byte)'e':
                        self.Enqueue(buffer.AsSpan(0, count).ToArray());
                        break;
                    default:
                        byte[] message = buffer.AsSpan(0, count).ToArray(); // one copy, shared by every member
                        foreach (Member member in room.Members)
                        {
                            if (member != self)
                            {
                                member.Enqueue(message);
                            }
                        }

                        break;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
    catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
    {
        // The client went away, or was aborted.
    }
}

/// <summary>A room's members as an immutable array, replaced on every join and leave: a broadcast walks it without a lock.</summary>
internal sealed class Room
{
    private readonly Lock _gate = new();
    private Member[] _members = [];

    public Member[] Members => Volatile.Read(ref _members);

    public void Add(Member member)
    {
        lock (_gate)
        {
            _members = [.. _members, member];
        }
    }

    public void Remove(Member member)
    {
        lock (_gate)
        {
            _members = Array.FindAll(_members, m => m != member);
        }
    }
}

/// <summary>One connection: its bounded queue, its send loop (the only writer of the socket), and when it was last heard from.</summary>
internal sealed class Member(WebSocket socket)
{
    private readonly Channel<byte[]> _queue = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(4096)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full: the slow-consumer signal
    });

    private long _lastSeen = Stopwatch.GetTimestamp();

    public WebSocket Socket { get; } = socket;

    public long LastSeen => Volatile.Read(ref _lastSeen);

    public void Seen() => Volatile.Write(ref _lastSeen, Stopwatch.GetTimestamp());

    /// <summary>Queues a frame without waiting; a full queue aborts this connection (a slow consumer never slows the others).</summary>
    public void Enqueue(byte[] frame)
    {
        if (!_queue.Writer.TryWrite(frame))
        {
            Socket.Abort();
        }
    }

    public void Complete() => _queue.Writer.TryComplete();

    public async Task SendLoopAsync()
    {
        try
        {
            while (await _queue.Reader.WaitToReadAsync())
            {
                while (_queue.Reader.TryRead(out byte[]? frame))
                {
                    await Socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The connection is gone: its receive loop ends too.
        }
    }
}

/// <summary>One timer for every connection: a "ping" every interval, and an abort for a connection silent for the timeout.</summary>
internal sealed class Heartbeat : IDisposable
{
    private static readonly byte[] Ping = "ping"u8.ToArray();
    private readonly Timer _timer;

    public Heartbeat(ConcurrentDictionary<Member, byte> members, TimeSpan interval, TimeSpan timeout)
    {
        _timer = new Timer(_ =>
        {
            foreach (Member member in members.Keys)
            {
                if (Stopwatch.GetElapsedTime(member.LastSeen) > timeout)
                {
                    member.Socket.Abort();
                }
                else
                {
                    member.Enqueue(Ping);
                }
            }
        }, null, interval, interval);
    }

    public void Dispose() => _timer.Dispose();
}
