using System.Text.Json.Nodes;

namespace Realtime.Internal.Ot;

/// <summary>How <see cref="Json0Type"/> applies a component to a snapshot: walking its path, then inserting, deleting, moving,
/// adding to or editing what it names.</summary>
internal static class Json0Apply
{
    /// <summary>Applies one component to <paramref name="root"/> (changed in place where it can be) and returns the new root: a
    /// component whose path is empty replaces, deletes or changes the whole document.</summary>
    public static JsonNode? ApplyComponent(JsonNode? root, Json0Component c)
    {
        if (c.IsStringOp)
        {
            return ApplyText(root, c.Path, c.Path.Count - 1, [c.ToText0()]);
        }

        if (c.IsText0Subtype && c.HasO)
        {
            return ApplyText(root, c.Path, c.Path.Count, Text0Component.ParseOp(c.O));
        }

        int length = c.Path.Count;
        if (length == 0)
        {
            return ApplyToRoot(root, c);
        }

        JsonNode? container = Walk(root, c.Path, length - 1);
        PathKey key = c.Path[length - 1];
        if (c.Na is double na)
        {
            if (container is not (JsonObject or JsonArray) || !JsValues.TryGetNumber(Get(container, key), out double value))
            {
                throw new OtException("json0: 'na' refers to something that is not a number.");
            }

            Set(container, key, JsValues.Number(value + na));
        }
        else if (c.HasLi || c.HasLd || c.Lm is not null)
        {
            ApplyToList(container as JsonArray ?? throw new OtException("json0: a list component refers to something that is not a list."), key, c);
        }
        else if (c.HasOi || c.HasOd)
        {
            if (container is not JsonObject obj)
            {
                throw new OtException("json0: an object component refers to something that is not an object.");
            }

            if (c.HasOi)
            {
                obj[key.ToPropertyName()] = c.Oi?.DeepClone();
            }
            else
            {
                obj.Remove(key.ToPropertyName());
            }
        }
        else
        {
            throw new OtException("json0: a component has no instruction (oi, od, li, ld, lm, na, si, sd or t with o).");
        }

        return root;
    }

    private static JsonNode? ApplyToRoot(JsonNode? root, Json0Component c)
    {
        // An empty path names the document through an object that holds it, as in the original: object and number components
        // apply to it, list components do not (that holder is not a list).
        if (c.Na is double na)
        {
            return JsValues.TryGetNumber(root, out double value)
                ? JsValues.Number(value + na)
                : throw new OtException("json0: 'na' refers to something that is not a number.");
        }

        if (c.HasLi || c.HasLd || c.Lm is not null)
        {
            throw new OtException("json0: a list component refers to something that is not a list.");
        }

        if (c.HasOi)
        {
            return c.Oi?.DeepClone();
        }

        if (c.HasOd)
        {
            return null;
        }

        throw new OtException("json0: a component has no instruction (oi, od, li, ld, lm, na, si, sd or t with o).");
    }

    private static void ApplyToList(JsonArray list, PathKey key, Json0Component c)
    {
        if (c.HasLi && c.HasLd)
        {
            long index = key.ToElementIndex();
            if (index < 0)
            {
                return; // a property of the array, not an element: nothing JSON would show
            }

            // At the end the replacement appends, as the original's elem[key] = li does. Past the end the original makes a sparse
            // array, written with a null in every gap: a tiny operation could ask for millions of elements, so it throws here.
            if (index > list.Count)
            {
                throw new OtException($"json0: a list replace at index {index} is past the end of a list of {list.Count}.");
            }

            if (index == list.Count)
            {
                list.Add(c.Li?.DeepClone());
            }
            else
            {
                list[(int)index] = c.Li?.DeepClone();
            }
        }
        else if (c.HasLi)
        {
            list.Insert(key.ToSpliceStart(list.Count), c.Li?.DeepClone());
        }
        else if (c.HasLd)
        {
            int start = key.ToSpliceStart(list.Count);
            if (start < list.Count)
            {
                list.RemoveAt(start);
            }
        }
        else if (c.Lm is PathKey target && !target.LooseEquals(key))
        {
            long index = key.ToElementIndex();
            JsonNode? moved = index >= 0 && index < list.Count ? list[(int)index] : null;
            int start = key.ToSpliceStart(list.Count);
            if (start < list.Count)
            {
                list.RemoveAt(start);
            }

            if (moved?.Parent is not null)
            {
                moved = moved.DeepClone();
            }

            list.Insert(target.ToSpliceStart(list.Count), moved);
        }
    }

    private static JsonNode? ApplyText(JsonNode? root, List<PathKey> path, int length, List<Text0Component> op)
    {
        if (length < 0)
        {
            throw new OtException("json0: a string component needs the offset as the last element of its path.");
        }

        if (length == 0)
        {
            return ApplyText(root, op);
        }

        JsonNode? container = Walk(root, path, length - 1);
        if (container is not (JsonObject or JsonArray))
        {
            throw new OtException("json0: the path does not lead to a string.");
        }

        PathKey key = path[length - 1];
        Set(container, key, ApplyText(Get(container, key), op));
        return root;
    }

    private static JsonNode ApplyText(JsonNode? value, List<Text0Component> op)
    {
        if (!JsValues.TryGetString(value, out string text))
        {
            throw new OtException("json0: a string component refers to something that is not a string.");
        }

        return JsonValue.Create(Text0.Apply(text, op));
    }

    /// <summary>The node at the first <paramref name="length"/> elements of <paramref name="path"/>.</summary>
    private static JsonNode? Walk(JsonNode? node, List<PathKey> path, int length)
    {
        for (int i = 0; i < length; i++)
        {
            if (node is not (JsonObject or JsonArray))
            {
                throw new OtException("json0: the path is invalid for this document.");
            }

            node = Get(node, path[i]);
        }

        return node;
    }

    private static JsonNode? Get(JsonNode container, PathKey key)
    {
        if (container is JsonObject obj)
        {
            return obj.TryGetPropertyValue(key.ToPropertyName(), out JsonNode? value) ? value : null;
        }

        var list = (JsonArray)container;
        long index = key.ToElementIndex();
        return index >= 0 && index < list.Count ? list[(int)index] : null;
    }

    private static void Set(JsonNode container, PathKey key, JsonNode? value)
    {
        if (container is JsonObject obj)
        {
            obj[key.ToPropertyName()] = value;
            return;
        }

        // Callers set only an element they have just read (a number, a string), so the index is inside the list.
        var list = (JsonArray)container;
        list[(int)key.ToElementIndex()] = value;
    }
}
