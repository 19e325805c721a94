using System.Text.Json.Nodes;

namespace Realtime.Internal.Ot;

/// <summary>
/// json0, as ot-json0 1.1.0 (see <see cref="OtTypes.Json0"/>): the same results for every operation the original accepts, component
/// kinds oi/od, li/ld, lm, na, si/sd and the text0 subtype (<c>t</c>/<c>o</c>). Where the original silently does something odd with
/// a malformed operation (a non-number <c>na</c>, a path element that is neither a key nor an index, an operation that is not a
/// list, a list replace past the end of the list), this type throws <see cref="OtException"/> instead.
/// </summary>
/// <remarks>This class is the <see cref="IOtType"/> surface and inverts; the rest is split by concern: <see cref="Json0Apply"/>
/// (applying components to a snapshot), <see cref="Json0Transform"/> (one component against another) and <see cref="Json0Compose"/>
/// (appending a component to an operation, which compose, normalize and transform share).</remarks>
internal sealed class Json0Type : IOtType, IComponentRules<Json0Component>, ISequenceTransform
{
    public string Name => "json0";

    public string Uri => "http://sharejs.org/types/JSONv0";

    public bool CanInvert => true;

    public JsonNode? Create(JsonNode? data) => data?.DeepClone();

    public JsonNode? Apply(JsonNode? snapshot, JsonNode op)
    {
        ArgumentNullException.ThrowIfNull(op);
        List<Json0Component> components = Json0Component.ParseOp(op);
        foreach (Json0Component c in components)
        {
            snapshot = Json0Apply.ApplyComponent(snapshot, c);
        }

        return snapshot;
    }

    public JsonNode Transform(JsonNode op, JsonNode other, OtSide side)
    {
        ArgumentNullException.ThrowIfNull(op);
        ArgumentNullException.ThrowIfNull(other);
        if (other is JsonArray { Count: 0 })
        {
            return op.DeepClone();
        }

        List<Json0Component> result = PairwiseTransform.Transform<Json0Component, Json0Type>(Json0Component.ParseOp(op), Json0Component.ParseOp(other), side);
        return Json0Component.ToJson(result);
    }

    /// <summary>As <see cref="Transform"/> against each of <paramref name="others"/> in turn, with the operation parsed once and written
    /// once (a late op on a busy document is transformed against every op committed since its version).</summary>
    public JsonNode TransformAgainst(JsonNode op, IReadOnlyList<JsonNode> others, OtSide side)
    {
        ArgumentNullException.ThrowIfNull(op);
        ArgumentNullException.ThrowIfNull(others);
        List<Json0Component>? current = null;
        foreach (JsonNode other in others)
        {
            ArgumentNullException.ThrowIfNull(other, nameof(others));
            if (other is not JsonArray { Count: 0 })
            {
                current = PairwiseTransform.Transform<Json0Component, Json0Type>(current ?? Json0Component.ParseOp(op), Json0Component.ParseOp(other), side);
            }
        }

        return current is null ? op.DeepClone() : Json0Component.ToJson(current);
    }

    public (JsonNode Left, JsonNode Right) TransformX(JsonNode left, JsonNode right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        // Unlike Transform, no short cut for an empty operation: the original's transformX appends every component (merging
        // neighbours) even then.
        (List<Json0Component> l, List<Json0Component> r) = PairwiseTransform.TransformX<Json0Component, Json0Type>(Json0Component.ParseOp(left), Json0Component.ParseOp(right));
        return (Json0Component.ToJson(l), Json0Component.ToJson(r));
    }

    public JsonNode Compose(JsonNode first, JsonNode second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        List<Json0Component> result = Json0Component.ParseOp(first);
        foreach (Json0Component c in Json0Component.ParseOp(second))
        {
            Json0Compose.AppendOwned(result, c);
        }

        return Json0Component.ToJson(result);
    }

    public JsonNode Invert(JsonNode op)
    {
        ArgumentNullException.ThrowIfNull(op);
        List<Json0Component> components = Json0Component.ParseOp(op);
        var inverse = new List<Json0Component>(components.Count);
        for (int i = components.Count - 1; i >= 0; i--)
        {
            inverse.Add(InvertComponent(components[i]));
        }

        return Json0Component.ToJson(inverse);
    }

    public JsonNode Normalize(JsonNode op)
    {
        ArgumentNullException.ThrowIfNull(op);
        var result = new List<Json0Component>();
        foreach (Json0Component c in Json0Component.ParseOp(op, normalizing: true))
        {
            Json0Compose.AppendOwned(result, c);
        }

        return Json0Component.ToJson(result);
    }

    /// <inheritdoc cref="Json0Transform.TransformComponent"/>
    public static void TransformComponent(List<Json0Component> destination, Json0Component component, Json0Component other, OtSide side)
        => Json0Transform.TransformComponent(destination, component, other, side);

    /// <inheritdoc cref="Json0Compose.Append"/>
    public static void Append(List<Json0Component> destination, Json0Component component) => Json0Compose.Append(destination, component);

    private static Json0Component InvertComponent(Json0Component c)
    {
        var inverse = new Json0Component { Path = new List<PathKey>(c.Path) };
        if (c.IsText0Subtype)
        {
            inverse.T = c.T;
            inverse.HasO = true;
            inverse.O = Text0Component.ToJson(Text0.Invert(Text0Component.ParseOp(c.O)));
        }

        inverse.Sd = c.Si;
        inverse.Si = c.Sd;
        (inverse.HasOd, inverse.Od) = (c.HasOi, c.Oi);
        (inverse.HasOi, inverse.Oi) = (c.HasOd, c.Od);
        (inverse.HasLd, inverse.Ld) = (c.HasLi, c.Li);
        (inverse.HasLi, inverse.Li) = (c.HasLd, c.Ld);
        if (c.Na is double na)
        {
            inverse.Na = -na;
        }

        if (c.Lm is PathKey target)
        {
            // Move back: from the target to where the element came from.
            inverse.Lm = c.PathAt(c.Path.Count - 1);
            if (c.Path.Count > 0)
            {
                inverse.Path[^1] = target;
            }
            else
            {
                inverse.Path.Add(target);
            }
        }

        return inverse;
    }
}
