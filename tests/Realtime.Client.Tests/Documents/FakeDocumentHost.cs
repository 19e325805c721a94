using System.Text.Json.Nodes;
using Realtime.Client.Internal;

namespace Realtime.Client.Tests.Documents;

/// <summary>A scripted surrounding for a <see cref="DocumentEngine"/>: it records what the engine sends and raises; the test plays the server.</summary>
internal sealed class FakeDocumentHost : IDocumentHost
{
    private long _seq;

    public List<string> Sent { get; } = [];

    public List<string> Events { get; } = [];

    public bool Refuse { get; set; }

    public static DocumentEngine Engine(out FakeDocumentHost host, IOtType? type = null, string? connectedAs = "conn1")
    {
        host = new FakeDocumentHost();
        return new DocumentEngine(host, [type ?? CounterType.Instance], connectedAs);
    }

    /// <summary>The requests sent since the last call, compact JSON, and forgets them.</summary>
    public string[] TakeSent()
    {
        string[] sent = [.. Sent];
        Sent.Clear();
        return sent;
    }

    public string[] TakeEvents()
    {
        string[] events = [.. Events];
        Events.Clear();
        return events;
    }

    public bool TrySend(JsonObject request)
    {
        if (Refuse)
        {
            return false;
        }

        Sent.Add(request.ToJsonString());
        return true;
    }

    public void Raise<TArgs>(SharedDocumentEvent<TArgs> evt, TArgs args) => Events.Add(evt.Name + ":" + args switch
    {
        SharedDocumentOp op => $"{op.Op.ToJsonString()} {(op.IsLocal ? "local" : "remote")}",
        SharedDocumentException ex => $"{ex.Code} {ex.Message}",
        bool local => local ? "local" : "remote",
        null => "none",
        _ => args.ToString(),
    });

    public long NextSeq() => ++_seq;
}

internal static class DocumentEngineTestExtensions
{
    /// <summary>Plays a server message.</summary>
    public static void Server(this DocumentEngine engine, string json)
    {
        var body = (JsonObject)JsonNode.Parse(json)!;
        engine.Receive((int)body["a"]!.GetValue<long>(), body);
    }

    public static string DataJson(this DocumentEngine engine) => engine.Data?.ToJsonString() ?? "null";
}
