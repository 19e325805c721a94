using System.Text.Json.Nodes;

namespace Realtime.Internal.Ot;

/// <summary>A component of text0, json0's string subtype: insert <see cref="I"/> or delete <see cref="D"/> at <see cref="P"/> (UTF-16
/// code units, as JavaScript counts).</summary>
internal readonly record struct Text0Component(int P, string? I, string? D)
{
    public bool IsInsert => I is not null;

    public int Length => (I ?? D)!.Length;

    public static Text0Component Insert(int p, string text) => new(p, text, null);

    public static Text0Component Delete(int p, string text) => new(p, null, text);

    public static Text0Component Create(PathKey position, string? insert, string? delete)
    {
        if (!position.IsNumber)
        {
            throw new OtException("text0: a component's position must be a number.");
        }

        return Create(position.Number, insert, delete);
    }

    private static Text0Component Create(double position, string? insert, string? delete)
    {
        if ((insert is null) == (delete is null))
        {
            throw new OtException("text0: a component needs an insert 'i' or a delete 'd' (one of them, a string).");
        }

        if (position < 0)
        {
            throw new OtException("text0: a position cannot be negative.");
        }

        if (position != Math.Floor(position) || position > int.MaxValue)
        {
            throw new OtException("text0: a position must be a whole number.");
        }

        return new((int)position, insert, delete);
    }

    public static List<Text0Component> ParseOp(JsonNode? op)
    {
        if (op is not JsonArray array)
        {
            throw new OtException("text0: an operation must be a list of components.");
        }

        var components = new List<Text0Component>(array.Count);
        foreach (JsonNode? node in array)
        {
            if (node is not JsonObject obj)
            {
                throw new OtException("text0: a component must be an object.");
            }

            if (!JsValues.TryGetNumber(obj["p"], out double p))
            {
                throw new OtException("text0: a component's position must be a number.");
            }

            string? insert = JsValues.TryGetString(obj["i"], out string i) ? i : null;
            string? delete = JsValues.TryGetString(obj["d"], out string d) ? d : null;
            components.Add(Create(p, insert, delete));
        }

        return components;
    }

    public JsonObject ToJson() => I is not null ? new JsonObject { ["i"] = I, ["p"] = P } : new JsonObject { ["d"] = D, ["p"] = P };

    public static JsonArray ToJson(List<Text0Component> op)
    {
        var array = new JsonArray();
        foreach (Text0Component c in op)
        {
            array.Add(c.ToJson());
        }

        return array;
    }
}
