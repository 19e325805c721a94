using System.Text.Json.Nodes;

namespace Realtime.Internal.Ot;

/// <summary>Plain text, as ot-text-unicode 4.0.0 (see <see cref="OtTypes.TextUnicode"/>).</summary>
internal sealed class TextUnicodeType : IOtType
{
    public string Name => "text-unicode";

    public string Uri => "http://sharejs.org/types/text-unicode";

    public bool CanInvert => true;

    public JsonNode? Create(JsonNode? data) => throw new NotImplementedException();

    public JsonNode? Apply(JsonNode? snapshot, JsonNode op) => throw new NotImplementedException();

    public JsonNode Transform(JsonNode op, JsonNode other, OtSide side) => throw new NotImplementedException();

    public JsonNode Compose(JsonNode first, JsonNode second) => throw new NotImplementedException();

    public JsonNode Invert(JsonNode op) => throw new NotImplementedException();
}
