using System.Text.Json.Nodes;

namespace Realtime.Client.Tests.Documents;

/// <summary>A counter: the snapshot is a number, an op is a number to add. Ops commute, compose by adding and invert by negation.</summary>
internal sealed class CounterType : IOtType
{
    public static readonly CounterType Instance = new();

    public string Name => "test-counter";

    public string Uri => "urn:test:counter";

    public bool CanInvert => true;

    public JsonNode? Create(JsonNode? data) => JsonValue.Create(data is null ? 0 : Value(data));

    public JsonNode? Apply(JsonNode? snapshot, JsonNode op) => JsonValue.Create(Value(snapshot) + Value(op));

    public JsonNode Transform(JsonNode op, JsonNode other, OtSide side) => op.DeepClone();

    public JsonNode Compose(JsonNode first, JsonNode second) => JsonValue.Create(Value(first) + Value(second));

    public JsonNode Invert(JsonNode op) => JsonValue.Create(-Value(op));

    private static long Value(JsonNode? node) => node is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number ? long.Parse(v.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture) : throw new OtException("not a number");
}

/// <summary>
/// One insert into a string: the snapshot is a string, an op is <c>{"p":offset,"s":text}</c>. Ties go by side, as json0's list and
/// string inserts do. It cannot compose (queued ops stay apart) nor invert (a refusal is a hard rollback).
/// </summary>
internal sealed class InsertType : IOtType
{
    public static readonly InsertType Instance = new();

    public string Name => "test-insert";

    public string Uri => "urn:test:insert";

    public bool CanInvert => false;

    public JsonNode? Create(JsonNode? data) => JsonValue.Create(data?.GetValue<string>() ?? string.Empty);

    public JsonNode? Apply(JsonNode? snapshot, JsonNode op)
    {
        string text = snapshot?.GetValue<string>() ?? throw new OtException("no text");
        (int p, string s) = Read(op);
        return p > text.Length ? throw new OtException("offset past the end") : JsonValue.Create(text.Insert(p, s));
    }

    public JsonNode Transform(JsonNode op, JsonNode other, OtSide side)
    {
        (int p, string s) = Read(op);
        (int q, string t) = Read(other);
        return Op(q < p || (q == p && side == OtSide.Right) ? p + t.Length : p, s);
    }

    public JsonNode Compose(JsonNode first, JsonNode second) => throw new OtException("inserts do not compose");

    public JsonNode Invert(JsonNode op) => throw new NotSupportedException();

    public static JsonNode Op(int p, string s) => new JsonObject { ["p"] = p, ["s"] = s };

    private static (int P, string S) Read(JsonNode op) => (op["p"]!.GetValue<int>(), op["s"]!.GetValue<string>());
}
