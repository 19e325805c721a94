using System.Text.Json;
using Realtime.Server.Internal.Protocols;

namespace Realtime.Server.Internal.StatusPage;

/// <summary>
/// The status page's data, read when it is asked for: this node's connections (a walk of its connection table, lock-free but for the
/// queue count of a connection with bytes queued), its rooms' member counts (read without the rooms' locks), the monitor's rates and
/// recent events, and the cluster's nodes from the backplane. Written as JSON (the field names are the page's contract; docs/server.md).
/// </summary>
internal static class StatusSnapshot
{
    /// <summary>The most rooms listed (the largest by members); the total is always given.</summary>
    public const int TopRooms = 20;

    /// <summary>The most queues listed (the fullest by bytes).</summary>
    public const int SlowestQueues = 10;

    public static void Write(Utf8JsonWriter json, RealtimeServer server, StatusMonitor monitor, IReadOnlyList<RealtimeNodeStatus> nodes, string? clusterError,
                             DateTimeOffset now)
    {
        json.WriteStartObject();
        json.WriteString("node", server.Backplane.NodeId);
        json.WriteString("time", now);
        WriteConnections(json, server);
        WriteRooms(json, server);
        WriteMessages(json, monitor);
        WriteEvents(json, "refusals", monitor.Refusals);
        WriteEvents(json, "disconnects", monitor.Disconnects);
        WriteNodes(json, server, nodes);
        if (clusterError is not null)
        {
            json.WriteString("clusterError", clusterError);
        }

        json.WriteEndObject();
    }

    private static void WriteConnections(Utf8JsonWriter json, RealtimeServer server)
    {
        int total = 0;
        int v1 = 0;
        var slowest = new List<(ServerConnection Connection, int Frames, long Bytes)>(SlowestQueues + 1);
        foreach (KeyValuePair<string, ServerConnection> pair in server.Node.Connections)
        {
            ServerConnection connection = pair.Value;
            total++;
            if (connection.Protocol is ProtocolV1)
            {
                v1++;
            }

            long bytes = connection.Outbound.QueuedBytes; // a volatile read; the frame count (under the queue's lock) only for the candidates
            if (bytes > 0 && (slowest.Count < SlowestQueues || bytes > slowest[^1].Bytes))
            {
                int at = slowest.FindIndex(s => s.Bytes < bytes);
                slowest.Insert(at < 0 ? slowest.Count : at, (connection, connection.Outbound.Count, bytes));
                if (slowest.Count > SlowestQueues)
                {
                    slowest.RemoveAt(slowest.Count - 1);
                }
            }
        }

        json.WriteStartObject("connections");
        json.WriteNumber("total", total);
        json.WriteStartArray("byProtocol");
        WriteProtocol(json, "realtime.v1", v1);
        WriteProtocol(json, "js-collaboration", total - v1);
        json.WriteEndArray();
        json.WriteEndObject();

        json.WriteStartArray("slowestQueues");
        foreach ((ServerConnection connection, int frames, long bytes) in slowest)
        {
            json.WriteStartObject();
            json.WriteString("connection", connection.Id);
            json.WriteString("room", connection.RoomId);
            json.WriteNumber("frames", frames);
            json.WriteNumber("bytes", bytes);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteProtocol(Utf8JsonWriter json, string protocol, int count)
    {
        json.WriteStartObject();
        json.WriteString("protocol", protocol);
        json.WriteNumber("count", count);
        json.WriteEndObject();
    }

    private static void WriteRooms(Utf8JsonWriter json, RealtimeServer server)
    {
        int total = 0;
        long members = 0;
        var top = new PriorityQueue<string, int>(TopRooms + 1); // the smallest of the largest on top
        foreach (KeyValuePair<string, int> room in server.Node.Rooms.MemberCounts())
        {
            total++;
            members += room.Value;
            if (top.Count < TopRooms)
            {
                top.Enqueue(room.Key, room.Value);
            }
            else if (top.TryPeek(out _, out int smallest) && room.Value > smallest)
            {
                top.EnqueueDequeue(room.Key, room.Value);
            }
        }

        var largest = new List<(string Room, int Members)>(top.Count);
        while (top.TryDequeue(out string? room, out int count))
        {
            largest.Add((room, count));
        }

        json.WriteStartObject("rooms");
        json.WriteNumber("total", total);
        json.WriteNumber("members", members);
        json.WriteStartArray("largest");
        for (int i = largest.Count - 1; i >= 0; i--)
        {
            json.WriteStartObject();
            json.WriteString("room", largest[i].Room);
            json.WriteNumber("members", largest[i].Members);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteMessages(Utf8JsonWriter json, StatusMonitor monitor)
    {
        (double In, double Out)[] history = monitor.History();
        json.WriteStartObject("messages");
        json.WriteBoolean("measuring", monitor.Watching);
        if (history.Length > 0)
        {
            json.WriteNumber("inPerSecond", history[^1].In);
            json.WriteNumber("outPerSecond", history[^1].Out);
        }
        else
        {
            json.WriteNull("inPerSecond");
            json.WriteNull("outPerSecond");
        }

        json.WriteStartArray("history");
        foreach ((double @in, double @out) in history)
        {
            json.WriteStartArray();
            json.WriteNumberValue(@in);
            json.WriteNumberValue(@out);
            json.WriteEndArray();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteEvents(Utf8JsonWriter json, string name, RecentEvents events)
    {
        json.WriteStartObject(name);
        json.WriteStartObject("counts");
        foreach (KeyValuePair<string, long> count in events.Counts())
        {
            json.WriteNumber(count.Key, count.Value);
        }

        json.WriteEndObject();
        json.WriteStartArray("recent");
        foreach ((DateTimeOffset time, string reason) in events.Recent())
        {
            json.WriteStartObject();
            json.WriteString("time", time);
            json.WriteString("reason", reason);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteNodes(Utf8JsonWriter json, RealtimeServer server, IReadOnlyList<RealtimeNodeStatus> nodes)
    {
        json.WriteStartArray("nodes");
        foreach (RealtimeNodeStatus node in nodes.OrderBy(n => n.NodeId, StringComparer.Ordinal))
        {
            json.WriteStartObject();
            json.WriteString("id", node.NodeId);
            json.WriteBoolean("self", node.NodeId == server.Backplane.NodeId);
            json.WriteNumber("connections", node.Connections);
            json.WriteNumber("rooms", node.Rooms);
            if (node.LastHeartbeat is { } beat)
            {
                json.WriteString("lastHeartbeat", beat);
            }
            else
            {
                json.WriteNull("lastHeartbeat");
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
    }
}
