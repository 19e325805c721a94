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

namespace Realtime.Benchmarks;

/// <summary>
/// Room fan-out to in-memory connections: a relayed 100-byte message broadcast to every member. Each
/// recipient's frame is then taken from its queue, as its send loop would. Allocated bytes must not
/// depend on <see cref="Recipients"/>: the frame is serialized once and its bytes shared.
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

    [GlobalSetup]
    public void Setup()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var options = new RealtimeOptions { MaxQueuedMessages = 16 };
        var broker = new LocalRoomBroker();
        _server = new RealtimeServer(options, broker, new HeartbeatTimer(TimeProvider.System, options), TimeProvider.System,
                                     NullLoggerFactory.Instance, new RealtimeMetrics(_services.GetRequiredService<IMeterFactory>()));
        _connections = new ServerConnection[Recipients];
        var welcome = new OutboundFrame("{\"t\":\"welcome\"}"u8.ToArray(), IsBinary: false);
        for (int i = 0; i < Recipients; i++)
        {
            var socket = WebSocket.CreateFromStream(Stream.Null, new WebSocketCreationOptions { IsServer = true });
            _connections[i] = new ServerConnection(_server, socket, "room1", roomIdValid: true, new Dictionary<string, string>(), new ClaimsPrincipal());
            broker.Join(_connections[i], welcome);
            _connections[i].TakeQueued();
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
            taken += connection.TakeQueued();
        }

        return taken;
    }
}
