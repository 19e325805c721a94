using System.Text.Json.Nodes;

namespace Realtime.Internal.Ot;

/// <summary>json0, as ot-json0 1.1.0 (see <see cref="OtTypes.Json0"/>).</summary>
internal sealed class Json0Type : IOtType
{
    public string Name => "json0";

    public string Uri => "http://sharejs.org/types/JSONv0";

    public bool CanInvert => true;

    public JsonNode? Create(JsonNode? data) => throw new NotImplementedException();

    public JsonNode? Apply(JsonNode? snapshot, JsonNode op) => throw new NotImplementedException();

    public JsonNode Transform(JsonNode op, JsonNode other, OtSide side) => throw new NotImplementedException();

    public JsonNode Compose(JsonNode first, JsonNode second) => throw new NotImplementedException();

    public JsonNode Invert(JsonNode op) => throw new NotImplementedException();
}
