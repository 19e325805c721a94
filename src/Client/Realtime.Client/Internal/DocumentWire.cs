using System.Text.Json;
using System.Text.Json.Nodes;

namespace Realtime.Client.Internal;

/// <summary>
/// The document wire of js-collaboration (message type <c>"ot-doc"</c>, js-collaboration-features.md §3): each message's data is a JSON
/// object with a numeric action <c>a</c>. This class writes the client's requests and reads the server's messages; it keeps no state.
/// </summary>
internal static class DocumentWire
{
    /// <summary>The message type of every document message, both ways.</summary>
    public const string MessageType = "ot-doc";

    /// <summary><c>a</c> of a fetch.</summary>
    public const int Fetch = 0;

    /// <summary><c>a</c> of a history snapshot request.</summary>
    public const int History = 2;

    /// <summary><c>a</c> of a subscribe.</summary>
    public const int Subscribe = 3;

    /// <summary><c>a</c> of an op (submit, ack, broadcast).</summary>
    public const int Op = 5;

    /// <summary>The code with which the server refuses an op silently (ERR_OP_SUBMIT_REJECTED): the client rolls it back without an error.</summary>
    public const int SubmitRejected = 19;

    /// <summary><c>{"a":0}</c> or <c>{"a":0,"v":v}</c> (fetch), and the same with <c>a:3</c> (subscribe).</summary>
    public static JsonObject Load(int action, long? version)
    {
        var request = new JsonObject { ["a"] = action };
        if (version is long v)
        {
            request["v"] = v;
        }

        return request;
    }

    /// <summary><c>{"a":2,"id":id,"v":v}</c>.</summary>
    public static JsonObject HistoryRequest(string id, long version) => new() { ["a"] = History, ["id"] = id, ["v"] = version };

    /// <summary>The submit of <paramref name="op"/>: <c>{"a":5,"v"?,"src","seq","x":{},kind:payload}</c>. <c>src</c> is always sent (see <see cref="PendingOp.Src"/>).</summary>
    public static JsonObject Submit(PendingOp op, long? version)
    {
        var request = new JsonObject { ["a"] = Op };
        if (version is long v)
        {
            request["v"] = v;
        }

        request["src"] = op.Src;
        request["seq"] = op.Seq;
        request["x"] = new JsonObject();
        switch (op.Kind)
        {
            case DocumentOpKind.Op:
                request["op"] = op.Op!.DeepClone();
                break;
            case DocumentOpKind.Create:
                request["create"] = new JsonObject { ["type"] = op.TypeName, ["data"] = op.Data?.DeepClone() };
                break;
            case DocumentOpKind.Delete:
                request["del"] = true;
                break;
            case DocumentOpKind.Restore:
                request["restore"] = new JsonObject { ["v"] = op.RestoreVersion, ["data"] = op.Data?.DeepClone() };
                break;
        }

        return request;
    }

    /// <summary>Reads a received message as a document message: an object with a numeric <c>a</c>.</summary>
    /// <returns><see langword="null"/> when it is not one.</returns>
    public static JsonObject? TryRead(Message message, out int action)
    {
        action = -1;
        if (message.Type != MessageType || message.IsBinary || message.Data.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (JsonNode.Parse(message.Data.GetRawText()) is not JsonObject body || !TryGetLong(body, "a", out long a))
        {
            return null;
        }

        action = (int)a;
        return body;
    }

    /// <summary>The error of an error reply (<c>error: {code, message}</c>); <see langword="null"/> when the message is not one.</summary>
    public static SharedDocumentException? ReadError(JsonObject body)
    {
        if (body["error"] is not JsonObject error)
        {
            return null;
        }

        int code = TryGetLong(error, "code", out long c) ? (int)c : 1000;
        string text = error["message"] is JsonValue m && m.TryGetValue(out string? s) ? s : "Unknown error";
        return new SharedDocumentException(code, text);
    }

    /// <summary>Reads an integral number property.</summary>
    public static bool TryGetLong(JsonObject body, string name, out long value)
    {
        value = 0;
        if (body[name] is not JsonValue node || node.GetValueKind() != JsonValueKind.Number)
        {
            return false;
        }

        if (node.TryGetValue(out long l))
        {
            value = l;
            return true;
        }

        if (node.TryGetValue(out double d) && d == Math.Floor(d) && Math.Abs(d) < 9007199254740992d)
        {
            value = (long)d;
            return true;
        }

        return false;
    }

    /// <summary>Reads a string property.</summary>
    public static string? GetString(JsonObject body, string name) => body[name] is JsonValue v && v.TryGetValue(out string? s) ? s : null;

    /// <summary>Reads the op of an op message (server → client) into a <see cref="PendingOp"/> without identity, or <see langword="null"/> when it carries none (an ack).</summary>
    public static PendingOp? ReadOp(JsonObject body)
    {
        if (body.TryGetPropertyValue("op", out JsonNode? op) && op is not null)
        {
            return PendingOp.ForOp(op.DeepClone());
        }

        if (body["create"] is JsonObject create)
        {
            return PendingOp.ForCreate(GetString(create, "type") ?? string.Empty, create["data"]?.DeepClone());
        }

        if (body.ContainsKey("del"))
        {
            return PendingOp.ForDelete();
        }

        if (body["restore"] is JsonObject restore)
        {
            return PendingOp.ForRestore(TryGetLong(restore, "v", out long v) ? v : 0, restore["data"]?.DeepClone());
        }

        return null;
    }

    /// <summary>Reads a snapshot object <c>{id, v, type?, data?}</c>.</summary>
    public static SharedDocumentSnapshot? ReadSnapshot(JsonNode? node)
    {
        if (node is not JsonObject snapshot || !TryGetLong(snapshot, "v", out long v))
        {
            return null;
        }

        return new SharedDocumentSnapshot(GetString(snapshot, "id") ?? string.Empty, v, GetString(snapshot, "type"), snapshot["data"]?.DeepClone());
    }
}
