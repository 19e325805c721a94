using System.Text.Json.Nodes;

namespace Realtime.Internal.Ot;

/// <summary>
/// One json0 component, read from its JSON once so transform and compose work on fields instead of nodes. Values (<c>oi</c>, <c>od</c>,
/// <c>li</c>, <c>ld</c>, <c>o</c>) are shared with the operation they came from and never changed: a component that needs a different
/// value gets a new node, and <see cref="ToJson()"/> copies them, so an operation given to the type is never changed nor kept.
/// </summary>
internal sealed class Json0Component
{
    public const string TextSubtype = "text0";

    public List<PathKey> Path { get; set; } = [];

    public bool HasOi { get; set; }

    public JsonNode? Oi { get; set; }

    public bool HasOd { get; set; }

    public JsonNode? Od { get; set; }

    public bool HasLi { get; set; }

    public JsonNode? Li { get; set; }

    public bool HasLd { get; set; }

    public JsonNode? Ld { get; set; }

    /// <summary>A list move's target index (<c>lm</c>).</summary>
    public PathKey? Lm { get; set; }

    /// <summary>A number add (<c>na</c>).</summary>
    public double? Na { get; set; }

    /// <summary>A string insert (<c>si</c>); the last path element is the offset, in UTF-16 code units.</summary>
    public string? Si { get; set; }

    /// <summary>A string delete (<c>sd</c>).</summary>
    public string? Sd { get; set; }

    /// <summary>A subtype's name (<c>t</c>); only <c>text0</c> is known, as in ot-json0.</summary>
    public string? T { get; set; }

    public bool HasO { get; set; }

    /// <summary>The subtype's operation (<c>o</c>).</summary>
    public JsonNode? O { get; set; }

    /// <summary>An <c>si</c> or <c>sd</c> component: a text0 operation on the string at the path without its last element.</summary>
    public bool IsStringOp => Si is not null || Sd is not null;

    /// <summary>Whether <c>t</c> is set (a non-empty name, as JavaScript's truthiness has it).</summary>
    public bool HasSubtype => !string.IsNullOrEmpty(T);

    public bool IsText0Subtype => T == TextSubtype;

    /// <summary>The length of the path to the value this component changes: an <c>na</c> or subtype component names the value itself,
    /// the others name it through its container and a key.</summary>
    public int OperandLength => Path.Count + (Na is not null || HasSubtype ? 1 : 0);

    public PathKey PathAt(int index) => index >= 0 && index < Path.Count ? Path[index] : PathKey.Undefined;

    public void SetPathAt(int index, PathKey key)
    {
        // Writing at -1 (the document itself) or past the end sets an array property JSON does not write, in the original.
        if (index >= 0 && index < Path.Count)
        {
            Path[index] = key;
        }
    }

    public Json0Component Copy()
    {
        var copy = (Json0Component)MemberwiseClone();
        copy.Path = new List<PathKey>(Path);
        return copy;
    }

    public static List<Json0Component> ParseOp(JsonNode op, bool normalizing = false)
    {
        if (op is not JsonArray array)
        {
            if (normalizing && op is JsonObject)
            {
                return [Parse(op, normalizing)];
            }

            throw new OtException("json0: an operation must be a list of components.");
        }

        var components = new List<Json0Component>(array.Count);
        foreach (JsonNode? node in array)
        {
            components.Add(Parse(node, normalizing));
        }

        return components;
    }

    public static Json0Component Parse(JsonNode? node, bool normalizing = false)
    {
        if (node is not JsonObject obj)
        {
            throw new OtException("json0: a component must be an object with a path 'p'.");
        }

        var c = new Json0Component();
        if (obj.TryGetPropertyValue("p", out JsonNode? p) && p is JsonArray path)
        {
            c.Path = new List<PathKey>(path.Count);
            foreach (JsonNode? element in path)
            {
                c.Path.Add(PathKey.Parse(element, "a path element"));
            }
        }
        else if (!(normalizing && p is null))
        {
            throw new OtException("json0: missing path 'p' (a list of keys and indexes).");
        }

        c.HasOi = obj.TryGetPropertyValue("oi", out JsonNode? oi);
        c.Oi = oi;
        c.HasOd = obj.TryGetPropertyValue("od", out JsonNode? od);
        c.Od = od;
        c.HasLi = obj.TryGetPropertyValue("li", out JsonNode? li);
        c.Li = li;
        c.HasLd = obj.TryGetPropertyValue("ld", out JsonNode? ld);
        c.Ld = ld;
        if (obj.TryGetPropertyValue("lm", out JsonNode? lm))
        {
            c.Lm = PathKey.Parse(lm, "'lm'");
        }

        if (obj.TryGetPropertyValue("na", out JsonNode? na))
        {
            c.Na = JsValues.TryGetNumber(na, out double number) ? number : throw new OtException("json0: 'na' must be a number.");
        }

        c.Si = ReadText(obj, "si");
        c.Sd = ReadText(obj, "sd");
        if (obj.TryGetPropertyValue("t", out JsonNode? t) && t is not null)
        {
            c.T = JsValues.TryGetString(t, out string name) ? name : throw new OtException("json0: 't' must be a subtype's name.");
        }

        c.HasO = obj.TryGetPropertyValue("o", out JsonNode? o);
        c.O = o;
        return c;
    }

    private static string? ReadText(JsonObject obj, string name)
    {
        if (!obj.TryGetPropertyValue(name, out JsonNode? node) || node is null)
        {
            return null;
        }

        return JsValues.TryGetString(node, out string text) ? text : throw new OtException($"json0: '{name}' must be a string.");
    }

    public JsonObject ToJson()
    {
        var path = new JsonArray();
        foreach (PathKey key in Path)
        {
            path.Add(key.ToJson());
        }

        var obj = new JsonObject { ["p"] = path };
        if (T is not null)
        {
            obj["t"] = T;
        }

        if (HasO)
        {
            obj["o"] = O?.DeepClone();
        }

        if (Na is double na)
        {
            obj["na"] = JsValues.Number(na);
        }

        if (Si is not null)
        {
            obj["si"] = Si;
        }

        if (Sd is not null)
        {
            obj["sd"] = Sd;
        }

        if (HasLi)
        {
            obj["li"] = Li?.DeepClone();
        }

        if (HasLd)
        {
            obj["ld"] = Ld?.DeepClone();
        }

        if (Lm is PathKey lm && lm.Kind != PathKeyKind.Undefined)
        {
            obj["lm"] = lm.ToJson();
        }

        if (HasOi)
        {
            obj["oi"] = Oi?.DeepClone();
        }

        if (HasOd)
        {
            obj["od"] = Od?.DeepClone();
        }

        return obj;
    }

    public static JsonArray ToJson(List<Json0Component> op)
    {
        var array = new JsonArray();
        foreach (Json0Component c in op)
        {
            array.Add(c.ToJson());
        }

        return array;
    }

    /// <summary>The string component's text0 form: the offset (the path's last element) and the insert or delete.</summary>
    public Text0Component ToText0()
    {
        if (Path.Count == 0)
        {
            throw new OtException("json0: a string component needs the offset as the last element of its path.");
        }

        return Text0Component.Create(Path[^1], Si, Sd);
    }

    /// <summary>Takes the text0 component's offset and text back into this string component (as ot-json0 converts back: a field
    /// is set when the text0 component has it, the other is left as it was).</summary>
    public void SetFromText0(Text0Component text, List<PathKey> stringPath)
    {
        Path = new List<PathKey>(stringPath.Count + 1);
        Path.AddRange(stringPath);
        Path.Add(PathKey.Of(text.P));
        if (text.I is not null)
        {
            Si = text.I;
        }

        if (text.D is not null)
        {
            Sd = text.D;
        }
    }
}
