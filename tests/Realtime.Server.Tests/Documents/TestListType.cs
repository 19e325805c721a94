using System.Text.Json.Nodes;

namespace Realtime.Server.Tests.Documents;

/// <summary>
/// A small OT type of the tests' own, so that the document service is tested apart from json0: the snapshot is a list of strings, an
/// operation a list of inserts <c>{"i":index,"s":"text"}</c>. Transform shifts an insert past a concurrent one before or at its index
/// (at a tie, the left side stays in front). An insert of <c>"boom"</c> fails to transform; one past the end fails to apply.
/// </summary>
internal sealed class TestListType : IOtType
{
    public static readonly TestListType Instance = new();

    public string Name => "test-list";

    public string Uri => "urn:realtime:test-list";

    public bool CanInvert => false;

    public JsonNode? Create(JsonNode? data) => data switch
    {
        null => new JsonArray(),
        JsonArray list => list.DeepClone(),
        _ => throw new OtException("A test-list is created from a list."),
    };

    public JsonNode? Apply(JsonNode? snapshot, JsonNode op)
    {
        var list = (JsonArray)snapshot!;
        foreach (JsonNode? component in op.AsArray())
        {
            int index = component!["i"]!.GetValue<int>();
            if (index > list.Count)
            {
                list.Add("half-applied"); // leaves the snapshot changed before throwing, as an Apply may
                throw new OtException($"Index {index} is past the end ({list.Count - 1}).");
            }

            list.Insert(index, component["s"]!.DeepClone());
        }

        return list;
    }

    public JsonNode Transform(JsonNode op, JsonNode other, OtSide side)
    {
        var result = (JsonArray)op.DeepClone();
        foreach (JsonNode? component in result)
        {
            if (component!["s"]!.GetValue<string>() == "boom")
            {
                throw new OtException("boom cannot be transformed");
            }

            int index = component["i"]!.GetValue<int>();
            foreach (JsonNode? before in other.AsArray())
            {
                int at = before!["i"]!.GetValue<int>();
                if (at < index || (at == index && side == OtSide.Right))
                {
                    index++;
                }
            }

            component["i"] = index;
        }

        return result;
    }

    public JsonNode Compose(JsonNode first, JsonNode second) => new JsonArray([.. first.AsArray().Select(c => c?.DeepClone()), .. second.AsArray().Select(c => c?.DeepClone())]);

    public JsonNode Invert(JsonNode op) => throw new NotSupportedException();
}
