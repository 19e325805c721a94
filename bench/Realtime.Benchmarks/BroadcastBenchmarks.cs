using System.Diagnostics.Metrics;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Realtime.Internal;
using Realtime.Server;
using Realtime.Server.Diagnostics;
using Realtime.Server.Internal;
using Realtime.Server.Internal.Protocols;

namespace Realtime.Benchmarks;

/// <summary>
/// Room fan-out to in-memory connections: a relayed 100-byte message broadcast to every member through
/// <see cref="RealtimeServer.Broadcast{T}(string, T, string?)"/> and the in-memory backplane. Each recipient's frame is then taken
/// from its outbound queue, as its send loop would. Allocated bytes must not depend on <see cref="Recipients"/>: the message is
/// encoded once per wire protocol in use and its bytes shared. With <see cref="Protocols"/> = 2, every other member speaks a
/// second protocol (a stub that frames the same message differently), so the broadcast is encoded twice, lazily, and still
/// allocates nothing per recipient. With <see cref="History"/>, the room keeps a history for recovery (docs/server.md) and its
/// protocol v1 members asked for positions, as the clients of this repository do: each broadcast is numbered, kept, and encoded
/// once more with its position; still nothing per recipient.
/// </summary>
[MemoryDiagnoser]
public class BroadcastBenchmarks
{
    private RealtimeServer _server = null!;
    private ServerConnection[] _connections = [];
    private ServiceProvider _services = null!;
    private Message _message;

    [Params(1, 100, 10_000)]
    public int Recipients { get; set; }

    [Params(1, 2)]
    public int Protocols { get; set; }

    [Params(false, true)]
    public bool History { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var options = new RealtimeOptions { MaxQueuedMessages = 16 };
        options.Recovery.Enabled = History;
        _server = new RealtimeServer(options, new InMemoryBackplane(), new HeartbeatTimer(TimeProvider.System, options), TimeProvider.System,
                                     NullLoggerFactory.Instance, new RealtimeMetrics(_services.GetRequiredService<IMeterFactory>()));
        _connections = new ServerConnection[Recipients];
        var second = new StubProtocol();
        var upgrade = new UpgradeRequest(null, "room1", ConnectionId: null, new Dictionary<string, string>(), HandshakeRefusal: null);
        var welcome = new OutboundFrame("{\"t\":\"welcome\"}"u8.ToArray(), IsBinary: false);
        for (int i = 0; i < Recipients; i++)
        {
            var socket = WebSocket.CreateFromStream(Stream.Null, new WebSocketCreationOptions { IsServer = true });
            RealtimeProtocol protocol = Protocols == 2 && i % 2 == 1 ? second : _server.ProtocolV1;
            _connections[i] = new ServerConnection(_server, protocol, socket, upgrade, new ClaimsPrincipal());
            if (History && protocol == _server.ProtocolV1)
            {
                _connections[i].Recovery = new Server.Internal.Recovery.RecoveryState(offeredToken: null, offeredPosition: null);
            }

            _ = _server.Node.Rooms.AddAsync(_connections[i], welcome).AsTask().GetAwaiter().GetResult();
            TakeAll(_connections[i]);
        }

        string data = "{\"content\":\"" + new string('x', 100 - 14) + "\"}";
        _message = new Message("my-document", JsonDocument.Parse(data).RootElement);
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    [Benchmark(Description = "broadcast a relayed message to the room")]
    public int Broadcast()
    {
        _server.Broadcast("room1", _message);
        int taken = 0;
        foreach (ServerConnection connection in _connections)
        {
            taken += TakeAll(connection);
        }

        return taken;
    }

    /// <summary>Takes every queued frame as the send loop does (take, then count it sent).</summary>
    private static int TakeAll(ServerConnection connection)
    {
        int count = 0;
        while (connection.Outbound.TryTake(out OutboundFrame frame))
        {
            connection.Outbound.Sent(frame.Bytes.Length);
            count++;
        }

        return count;
    }

    /// <summary>A second wire protocol for the benchmark: the message's data under a one-byte header.</summary>
    private sealed class StubProtocol() : RealtimeProtocol(slot: 1)
    {
        public override OutboundFrame Ping { get; } = new(new byte[] { 2 }, IsBinary: false);

        public override bool TryReadUpgrade(in UpgradeRequestHead request, out UpgradeRequest upgrade, out HttpRefusal refusal)
            => throw new NotSupportedException();

        public override ProtocolReader CreateReader() => throw new NotSupportedException();

        public override OutboundFrame EncodeAccept(string connectionId, string roomId, RealtimeOptions options) => Ping;

        public override OutboundFrame EncodeReject(string message) => Ping;

        public override OutboundFrame EncodeError(string message) => Ping;

        public override OutboundFrame EncodeMessage(in Message message)
        {
            ReadOnlySpan<byte> data = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(message.Data);
            byte[] bytes = new byte[data.Length + 1];
            bytes[0] = 4;
            data.CopyTo(bytes.AsSpan(1));
            return new OutboundFrame(bytes, IsBinary: false);
        }

        public override OutboundFrame? ClosePacket(DisconnectReason reason, int closeCode) => null;
    }
}
