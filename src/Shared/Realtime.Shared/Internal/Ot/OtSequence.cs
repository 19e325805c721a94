using System.Text.Json.Nodes;

namespace Realtime.Internal.Ot;

/// <summary>A type that transforms an operation against several, one after the other, keeping its own form in between.</summary>
internal interface ISequenceTransform
{
    /// <summary>The same as <see cref="IOtType.Transform"/> against each of <paramref name="others"/> in turn.</summary>
    JsonNode TransformAgainst(JsonNode op, IReadOnlyList<JsonNode> others, OtSide side);
}

/// <summary>Transforms against a sequence of operations: in one pass for a type that can (<see cref="ISequenceTransform"/>), else one
/// <see cref="IOtType.Transform"/> after the other.</summary>
internal static class OtSequence
{
    public static JsonNode TransformAgainst(IOtType type, JsonNode op, IReadOnlyList<JsonNode> others, OtSide side)
    {
        if (type is ISequenceTransform sequence)
        {
            return sequence.TransformAgainst(op, others, side);
        }

        foreach (JsonNode other in others)
        {
            op = type.Transform(op, other, side);
        }

        return op;
    }
}
