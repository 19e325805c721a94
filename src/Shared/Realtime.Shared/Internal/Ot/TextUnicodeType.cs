using System.Text;
using System.Text.Json.Nodes;

namespace Realtime.Internal.Ot;

/// <summary>
/// Plain text, as ot-text-unicode 4.0.0 (see <see cref="OtTypes.TextUnicode"/>): the same results for every operation the original
/// accepts. Offsets count code points; a delete is <c>{"d":n}</c> or, to be invertible, <c>{"d":"the text"}</c> (only its length is
/// used when applying). Results are trimmed of a trailing skip and merge neighbouring components of one kind.
/// </summary>
internal sealed class TextUnicodeType : IOtType
{
    public string Name => "text-unicode";

    public string Uri => "http://sharejs.org/types/text-unicode";

    public bool CanInvert => true;

    public JsonNode? Create(JsonNode? data)
    {
        if (data is null)
        {
            return JsonValue.Create(string.Empty);
        }

        return JsValues.TryGetString(data, out string text) ? JsonValue.Create(text) : throw new OtException("text-unicode: the initial data must be a string.");
    }

    public JsonNode? Apply(JsonNode? snapshot, JsonNode op)
    {
        ArgumentNullException.ThrowIfNull(op);
        List<TextUnicodeComponent> components = TextUnicodeComponent.ParseOp(op);
        if (!JsValues.TryGetString(snapshot, out string document))
        {
            throw new OtException("text-unicode: the snapshot is not a string.");
        }

        var result = new StringBuilder(document.Length + 16);
        int position = 0;
        foreach (TextUnicodeComponent c in components)
        {
            switch (c.Kind)
            {
                case TextUnicodeKind.Skip:
                    long units = CodePoints.Units(document.AsSpan(position), c.Count);
                    if (position + units > document.Length)
                    {
                        throw new OtException("text-unicode: the operation is too long for this document.");
                    }

                    result.Append(document, position, (int)units);
                    position += (int)units;
                    break;
                case TextUnicodeKind.Insert:
                    result.Append(c.Text);
                    break;
                default:
                    // As the original: a delete past the end deletes to the end, and the deleted text is not compared.
                    position = (int)Math.Min(position + CodePoints.Units(document.AsSpan(position), c.Count), document.Length);
                    break;
            }
        }

        result.Append(document, position, document.Length - position);
        return JsonValue.Create(result.ToString());
    }

    public JsonNode Transform(JsonNode op, JsonNode other, OtSide side)
    {
        ArgumentNullException.ThrowIfNull(op);
        ArgumentNullException.ThrowIfNull(other);
        List<TextUnicodeComponent> mine = TextUnicodeComponent.ParseOp(op);
        List<TextUnicodeComponent> theirs = TextUnicodeComponent.ParseOp(other);
        var result = new List<TextUnicodeComponent>(mine.Count + 2);
        var reader = new TextUnicodeReader(mine);
        foreach (TextUnicodeComponent c in theirs)
        {
            switch (c.Kind)
            {
                case TextUnicodeKind.Skip:
                    for (long length = c.Count; length > 0;)
                    {
                        TextUnicodeComponent piece = reader.Take(length, composing: false);
                        Append(result, piece);
                        if (piece.Kind != TextUnicodeKind.Insert)
                        {
                            length -= piece.Length;
                        }
                    }

                    break;
                case TextUnicodeKind.Insert:
                    // Both insert here: the left insert goes first.
                    if (side == OtSide.Left && reader.Peek() is { Kind: TextUnicodeKind.Insert })
                    {
                        Append(result, reader.TakeAll()!.Value);
                    }

                    Append(result, TextUnicodeComponent.Skip(c.Length));
                    break;
                default:
                    for (long length = c.Count; length > 0;)
                    {
                        TextUnicodeComponent piece = reader.Take(length, composing: false);
                        if (piece.Kind == TextUnicodeKind.Insert)
                        {
                            Append(result, piece);
                        }
                        else
                        {
                            // A skip over deleted text vanishes, and so does a delete of text already deleted.
                            length -= piece.Length;
                        }
                    }

                    break;
            }
        }

        while (reader.TakeAll() is TextUnicodeComponent rest)
        {
            Append(result, rest);
        }

        return ToTrimmedJson(result);
    }

    public JsonNode Compose(JsonNode first, JsonNode second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        List<TextUnicodeComponent> before = TextUnicodeComponent.ParseOp(first);
        List<TextUnicodeComponent> after = TextUnicodeComponent.ParseOp(second);
        var result = new List<TextUnicodeComponent>(before.Count + after.Count);
        var reader = new TextUnicodeReader(before);
        foreach (TextUnicodeComponent c in after)
        {
            switch (c.Kind)
            {
                case TextUnicodeKind.Skip:
                    for (long length = c.Count; length > 0;)
                    {
                        TextUnicodeComponent piece = reader.Take(length, composing: true);
                        Append(result, piece);
                        if (piece.Kind != TextUnicodeKind.Delete)
                        {
                            length -= piece.Length;
                        }
                    }

                    break;
                case TextUnicodeKind.Insert:
                    Append(result, c);
                    break;
                default:
                    for (long offset = 0; offset < c.Count;)
                    {
                        TextUnicodeComponent piece = reader.Take(c.Count - offset, composing: true);
                        switch (piece.Kind)
                        {
                            case TextUnicodeKind.Skip:
                                // Deleting text the first operation kept.
                                Append(result, c.SliceDelete(offset, offset + piece.Count));
                                offset += piece.Count;
                                break;
                            case TextUnicodeKind.Insert:
                                // Deleting text the first operation inserted: neither happens.
                                offset += piece.Length;
                                break;
                            default:
                                Append(result, piece);
                                break;
                        }
                    }

                    break;
            }
        }

        while (reader.TakeAll() is TextUnicodeComponent rest)
        {
            Append(result, rest);
        }

        return ToTrimmedJson(result);
    }

    public JsonNode Invert(JsonNode op)
    {
        ArgumentNullException.ThrowIfNull(op);
        // Like the original, invert reads the operation as normalize does (an empty component or a trailing skip is dropped).
        var result = new List<TextUnicodeComponent>();
        foreach (TextUnicodeComponent c in TextUnicodeComponent.ParseOp(op, lenient: true))
        {
            Append(result, c.Kind switch
            {
                TextUnicodeKind.Skip => c,
                TextUnicodeKind.Insert => TextUnicodeComponent.Delete(c.Text!),
                _ => c.Text is not null
                    ? TextUnicodeComponent.Insert(c.Text)
                    : throw new NotSupportedException("text-unicode: an operation with a delete of a count ({\"d\":n}) cannot be inverted; a delete must carry the deleted text ({\"d\":\"…\"})."),
            });
        }

        return ToTrimmedJson(result);
    }

    public JsonNode Normalize(JsonNode op)
    {
        ArgumentNullException.ThrowIfNull(op);
        var result = new List<TextUnicodeComponent>();
        foreach (TextUnicodeComponent c in TextUnicodeComponent.ParseOp(op, lenient: true))
        {
            Append(result, c);
        }

        return ToTrimmedJson(result);
    }

    /// <summary>Appends a component, dropping an empty one and merging it into the last one of its kind (a delete keeps its text
    /// only when both have theirs).</summary>
    private static void Append(List<TextUnicodeComponent> op, TextUnicodeComponent c)
    {
        if (c.IsEmpty)
        {
            return;
        }

        if (op.Count == 0 || op[^1].Kind != c.Kind)
        {
            op.Add(c);
            return;
        }

        TextUnicodeComponent last = op[^1];
        op[^1] = c.Kind switch
        {
            TextUnicodeKind.Skip => TextUnicodeComponent.Skip(last.Count + c.Count),
            TextUnicodeKind.Insert => TextUnicodeComponent.Insert(last.Text + c.Text),
            _ => last.Text is not null && c.Text is not null
                ? new TextUnicodeComponent(TextUnicodeKind.Delete, last.Count + c.Count, last.Text + c.Text)
                : TextUnicodeComponent.Delete(last.Count + c.Count),
        };
    }

    private static JsonArray ToTrimmedJson(List<TextUnicodeComponent> op)
    {
        if (op.Count > 0 && op[^1].Kind == TextUnicodeKind.Skip)
        {
            op.RemoveAt(op.Count - 1);
        }

        return TextUnicodeComponent.ToJson(op);
    }
}
