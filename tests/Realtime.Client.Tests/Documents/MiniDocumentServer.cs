using System.Text.Json.Nodes;
using Realtime.Client.Internal;

namespace Realtime.Client.Tests.Documents;

/// <summary>
/// The server side of js-collaboration-features.md §3.4–3.6 in miniature, for simulations of the client algorithm: one document,
/// its op log, submits transformed against the ops since their version (side left), resends detected by src+seq, acks after the
/// transformed-against ops, broadcasts to the other subscribers. Messages travel through per-client queues the test delivers one at
/// a time, in any interleaving, and a drop loses a part of them. Not thread-safe; the test drives it.
/// </summary>
internal sealed class MiniDocumentServer(IOtType type)
{
    private readonly List<(long V, string Src, long Seq, JsonNode Op)> _log = [];
    private readonly List<SimulatedClient> _clients = [];
    private JsonNode? _snapshot;
    private int _connections;

    public JsonNode? Snapshot => _snapshot;

    public long Version => _log.Count;

    public SimulatedClient AddClient()
    {
        var client = new SimulatedClient(this, $"c{_connections++}");
        _clients.Add(client);
        return client;
    }

    /// <summary>Creates the document on the server side (version 1).</summary>
    public void Create(JsonNode data)
    {
        _snapshot = type.Create(data);
        _log.Add((0, "server", 0, JsonValue.Create("create")));
    }

    internal string NewConnectionId() => $"c{_connections++}";

    internal void Handle(SimulatedClient from, JsonObject request)
    {
        int a = (int)request["a"]!.GetValue<long>();
        long? v = request["v"] is JsonNode node ? node.GetValue<long>() : null;
        switch (a)
        {
            case DocumentWire.Fetch or DocumentWire.Subscribe:
                if (a == DocumentWire.Subscribe)
                {
                    from.Subscribed = true;
                }

                if (v is long since)
                {
                    for (long i = since; i < _log.Count; i++)
                    {
                        from.ToClient.Enqueue(OpMessage(i));
                    }

                    from.ToClient.Enqueue(new JsonObject { ["a"] = a });
                }
                else
                {
                    from.ToClient.Enqueue(new JsonObject { ["data"] = new JsonObject { ["id"] = "room1", ["v"] = _log.Count, ["type"] = type.Uri, ["data"] = _snapshot?.DeepClone() }, ["a"] = a });
                }

                break;
            case DocumentWire.Op:
                Submit(from, request, v ?? _log.Count);
                break;
        }
    }

    private void Submit(SimulatedClient from, JsonObject request, long v)
    {
        string src = request["src"]!.GetValue<string>();
        long seq = request["seq"]!.GetValue<long>();
        JsonNode op = request["op"]!.DeepClone();
        var transformedAgainst = new List<JsonObject>();
        for (long i = v; i < _log.Count; i++)
        {
            (_, string committedSrc, long committedSeq, JsonNode committed) = _log[(int)i];
            if (committedSrc == src && committedSeq == seq)
            {
                from.ToClient.Enqueue(new JsonObject { ["src"] = src, ["seq"] = seq, ["v"] = i, ["a"] = 5 }); // already submitted
                return;
            }

            op = type.Transform(op, committed, OtSide.Left);
            transformedAgainst.Add(OpMessage(i));
        }

        _snapshot = type.Apply(_snapshot, op);
        long at = _log.Count;
        _log.Add((at, src, seq, op));
        foreach (SimulatedClient other in _clients)
        {
            if (other != from && other.Subscribed && other.Online)
            {
                other.ToClient.Enqueue(OpMessage(at));
            }
        }

        foreach (JsonObject message in transformedAgainst)
        {
            from.ToClient.Enqueue(message);
        }

        from.ToClient.Enqueue(new JsonObject { ["src"] = src, ["seq"] = seq, ["v"] = at, ["a"] = 5 });
    }

    private JsonObject OpMessage(long i)
    {
        (long v, string src, long seq, JsonNode op) = _log[(int)i];
        return i == 0
            ? new JsonObject { ["a"] = 5, ["v"] = v, ["src"] = src, ["seq"] = seq, ["create"] = new JsonObject { ["type"] = type.Uri, ["data"] = null } }
            : new JsonObject { ["a"] = 5, ["v"] = v, ["src"] = src, ["seq"] = seq, ["op"] = op.DeepClone() };
    }
}

/// <summary>One client of a <see cref="MiniDocumentServer"/>: a document engine and its two message queues.</summary>
internal sealed class SimulatedClient : IDocumentHost
{
    private readonly MiniDocumentServer _server;
    private long _seq;

    public SimulatedClient(MiniDocumentServer server, string id)
    {
        _server = server;
        Id = id;
        Online = true;
        Document = new DocumentEngine(this, [OtTypes.Json0], id);
    }

    public string Id { get; private set; }

    public bool Online { get; private set; }

    public bool Subscribed { get; set; }

    public DocumentEngine Document { get; }

    public Queue<JsonObject> ToServer { get; } = new();

    public Queue<JsonObject> ToClient { get; } = new();

    public bool DeliverToServer()
    {
        if (!Online || !ToServer.TryDequeue(out JsonObject? request))
        {
            return false;
        }

        _server.Handle(this, request);
        return true;
    }

    public bool DeliverToClient()
    {
        if (!Online || !ToClient.TryDequeue(out JsonObject? message))
        {
            return false;
        }

        var received = (JsonObject)JsonNode.Parse(message.ToJsonString())!; // as the wire would carry it
        Document.Receive((int)received["a"]!.GetValue<long>(), received);
        return true;
    }

    /// <summary>The connection drops: the first <paramref name="delivered"/> requests on their way still reach the server, the rest and every answer on its way are lost.</summary>
    public void Drop(int delivered)
    {
        for (int i = 0; i < delivered && DeliverToServer(); i++)
        {
        }

        ToServer.Clear();
        ToClient.Clear();
        Online = false;
        Subscribed = false;
        Document.Disconnected();
    }

    public void Reconnect()
    {
        Id = _server.NewConnectionId();
        Online = true;
        Document.Connected(Id);
    }

    public bool TrySend(JsonObject request)
    {
        ToServer.Enqueue((JsonObject)JsonNode.Parse(request.ToJsonString())!); // as the wire would carry it
        return true;
    }

    /// <summary>Errors and hard rollbacks raised: none are expected without refusals.</summary>
    public List<string> Trouble { get; } = [];

    public void Raise<TArgs>(SharedDocumentEvent<TArgs> evt, TArgs args)
    {
        if (evt.Name is "error" or "hardRollback")
        {
            Trouble.Add($"{evt.Name}: {args}");
        }
    }

    public long NextSeq() => ++_seq;
}
