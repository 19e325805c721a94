using System.Text.Json.Nodes;

namespace Realtime.Internal.Ot;

/// <summary>
/// One text-unicode component: a skip of <see cref="Count"/> code points, an insert of <see cref="Text"/>, or a delete of
/// <see cref="Count"/> code points that may carry the deleted <see cref="Text"/> (which makes it invertible).
/// </summary>
internal readonly record struct TextUnicodeComponent(TextUnicodeKind Kind, long Count, string? Text)
{
    public static TextUnicodeComponent Skip(long count) => new(TextUnicodeKind.Skip, count, null);

    public static TextUnicodeComponent Insert(string text) => new(TextUnicodeKind.Insert, 0, text);

    public static TextUnicodeComponent Delete(long count) => new(TextUnicodeKind.Delete, count, null);

    public static TextUnicodeComponent Delete(string text) => new(TextUnicodeKind.Delete, CodePoints.Count(text), text);

    /// <summary>Whether a component is the nothing that appending ignores (an empty skip, insert or delete).</summary>
    public bool IsEmpty => Kind == TextUnicodeKind.Insert ? Text!.Length == 0 : Count == 0;

    /// <summary>The length in code points (of the document it skips or deletes, or of the text it inserts).</summary>
    public long Length => Kind == TextUnicodeKind.Insert ? CodePoints.Count(Text) : Count;

    /// <summary>The delete's part from code point <paramref name="start"/> to <paramref name="end"/> (or its end).</summary>
    public TextUnicodeComponent SliceDelete(long start, long? end = null)
    {
        if (Text is null)
        {
            return Delete((end is long last ? Math.Min(Count, last) : Count) - start);
        }

        return Delete(CodePoints.Slice(Text, start, end));
    }

    public JsonNode ToJson() => Kind switch
    {
        TextUnicodeKind.Skip => JsonValue.Create(Count),
        TextUnicodeKind.Insert => JsonValue.Create(Text!),
        _ => new JsonObject { ["d"] = Text is null ? JsonValue.Create(Count) : JsonValue.Create(Text) },
    };

    public static JsonArray ToJson(List<TextUnicodeComponent> op)
    {
        var array = new JsonArray();
        foreach (TextUnicodeComponent c in op)
        {
            array.Add(c.ToJson());
        }

        return array;
    }

    /// <summary>Reads an operation, checking it as ot-text-unicode checks one (no empty component, no two skips in a row, no skip at the
    /// end); <paramref name="lenient"/> accepts all of those, for normalize.</summary>
    public static List<TextUnicodeComponent> ParseOp(JsonNode? op, bool lenient = false)
    {
        if (op is not JsonArray array)
        {
            throw new OtException("text-unicode: an operation must be a list of components.");
        }

        var components = new List<TextUnicodeComponent>(array.Count);
        foreach (JsonNode? node in array)
        {
            TextUnicodeComponent c = Parse(node);
            if (!lenient)
            {
                if (c.IsEmpty)
                {
                    throw new OtException(c.Kind switch
                    {
                        TextUnicodeKind.Skip => "text-unicode: a skip must be more than 0.",
                        TextUnicodeKind.Insert => "text-unicode: an insert cannot be empty.",
                        _ => "text-unicode: a delete cannot be empty.",
                    });
                }

                if (c.Kind == TextUnicodeKind.Skip && components.Count > 0 && components[^1].Kind == TextUnicodeKind.Skip)
                {
                    throw new OtException("text-unicode: adjacent skips must be combined.");
                }
            }

            components.Add(c);
        }

        if (!lenient && components.Count > 0 && components[^1].Kind == TextUnicodeKind.Skip)
        {
            throw new OtException("text-unicode: an operation cannot end with a skip.");
        }

        return components;
    }

    private static TextUnicodeComponent Parse(JsonNode? node)
    {
        if (JsValues.TryGetString(node, out string insert))
        {
            return Insert(insert);
        }

        if (JsValues.TryGetNumber(node, out double skip))
        {
            return Skip(Whole(skip, "a skip"));
        }

        if (node is JsonObject obj)
        {
            JsonNode? d = obj["d"];
            if (JsValues.TryGetString(d, out string deleted))
            {
                return Delete(deleted);
            }

            if (JsValues.TryGetNumber(d, out double count))
            {
                return Delete(Whole(count, "a delete"));
            }

            throw new OtException("text-unicode: a delete's 'd' must be a number or a string.");
        }

        throw new OtException("text-unicode: a component must be a skip (number), an insert (string) or a delete ({\"d\":…}).");
    }

    private static long Whole(double value, string what)
    {
        if (value < 0 || value != Math.Floor(value) || value > int.MaxValue)
        {
            throw new OtException($"text-unicode: {what} must be a whole number of characters, not negative.");
        }

        return (long)value;
    }
}

/// <summary>What a <see cref="TextUnicodeComponent"/> does.</summary>
internal enum TextUnicodeKind
{
    Skip,
    Insert,
    Delete,
}
