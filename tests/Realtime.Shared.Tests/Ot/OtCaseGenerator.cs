using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Realtime.Shared.Tests.Ot;

/// <summary>
/// Generates documents and operations the way editing clients make them: every operation is written against the document it will
/// be applied to (deletes carry exactly what they delete, offsets never split a character), and an operation of several components
/// is built by applying each component before choosing the next. Documents are small, with few keys and short lists and strings,
/// so concurrent operations often touch the same place (the ties transform must settle).
/// </summary>
/// <remarks>
/// <paramref name="exactNumbers"/> keeps numbers to ones binary floating point adds exactly (for laws like convergence, which
/// <c>0.1 + 0.2</c> breaks). <paramref name="stringEdits"/> chooses how json0 edits strings: ot-json0 does not transform an
/// <c>si</c>/<c>sd</c> component against a concurrent <c>t: "text0"</c> one on the same string, so mixing the two forms diverges,
/// in the original as here.
/// </remarks>
internal sealed class OtCaseGenerator(Random random, bool exactNumbers = false, StringEdits stringEdits = StringEdits.Both)
{
    private static readonly string[] Keys = ["a", "b", "c", "d", "e"];

    // Some one-unit, some two-unit (surrogate pairs) characters, to tell UTF-16 offsets from code points.
    private static readonly string[] Characters = ["a", "b", "c", "x", " ", "é", "中", "😀", "𝄞", "z"];

    private static readonly double[] Fractions = [0.1, 0.2, 0.5, 0.25, 1.5, -0.3, 1e-7];

    public JsonNode Json0Document()
    {
        // Mostly an object, as documents are; sometimes a list, a string or a number, which operations with short paths (or
        // none) change.
        switch (random.Next(20))
        {
            case 0:
                return new JsonArray(Value(1), Value(1));
            case 1:
                return Text(random.Next(0, 6));
            case 2:
                return Number();
        }

        var doc = new JsonObject();
        int keys = random.Next(1, 5);
        for (int i = 0; i < keys; i++)
        {
            doc[Keys[random.Next(Keys.Length)]] = Value(2);
        }

        return doc;
    }

    public string TextDocument() => Text(random.Next(0, 10));

    /// <summary>A json0 operation of 1 to <paramref name="maxComponents"/> components written against <paramref name="doc"/> (not changed).</summary>
    public JsonArray Json0Op(JsonNode? doc, int maxComponents = 3)
    {
        var op = new JsonArray();
        JsonNode? working = doc?.DeepClone();
        int count = random.Next(1, maxComponents + 1);
        for (int i = 0; i < count; i++)
        {
            JsonObject component = Json0Component(working);
            op.Add(component);
            working = OtTypes.Json0.Apply(working, new JsonArray(component.DeepClone()));
        }

        return op;
    }

    /// <summary>A json0 operation that does not fit <paramref name="doc"/> or is malformed: applying it throws, in both implementations.</summary>
    public JsonArray InvalidJson0Op(JsonNode doc)
    {
        List<(JsonArray Path, JsonNode? Node)> nodes = Nodes(doc);
        (JsonArray path, JsonNode? node) = nodes[random.Next(nodes.Count)];
        JsonObject component = (random.Next(7), node) switch
        {
            (0, not JsonValue) => new JsonObject { ["p"] = path.DeepClone(), ["na"] = 1 },
            (1, JsonArray) => new JsonObject { ["p"] = With(path, "k"), ["oi"] = 1 },
            (2, JsonObject) => new JsonObject { ["p"] = With(path, 0), ["li"] = 1 },
            (3, _) => new JsonObject { ["p"] = With(With(path, "missing"), "x"), ["oi"] = 1 },
            (4, _) => new JsonObject { ["p"] = path.DeepClone() },
            (5, _) => new JsonObject { ["si"] = "x" },
            _ => new JsonObject { ["p"] = new JsonArray("nope", 0), ["sd"] = "zz" },
        };
        return [component];
    }

    /// <summary>A text-unicode operation written against <paramref name="doc"/>; with <paramref name="stringDeletes"/> every delete
    /// carries its text (so the operation can be inverted).</summary>
    public JsonArray TextOp(string doc, bool stringDeletes = false)
    {
        var op = new JsonArray();
        int[] starts = CodePointStarts(doc);
        int remaining = starts.Length - 1;
        int at = 0;
        bool lastWasSkip = false;
        int actions = random.Next(1, 5);
        for (int i = 0; i < actions; i++)
        {
            switch (random.Next(3))
            {
                case 0 when remaining > 0 && !lastWasSkip:
                    int skip = random.Next(1, remaining + 1);
                    op.Add(skip);
                    at += skip;
                    remaining -= skip;
                    lastWasSkip = true;
                    continue;
                case 1 when remaining > 0:
                    int count = random.Next(1, remaining + 1);
                    string deleted = doc[starts[at]..starts[at + count]];
                    op.Add(new JsonObject { ["d"] = stringDeletes || random.Next(2) == 0 ? deleted : count });
                    at += count;
                    remaining -= count;
                    break;
                default:
                    op.Add(Text(random.Next(1, 4)));
                    break;
            }

            lastWasSkip = false;
        }

        if (lastWasSkip)
        {
            op.RemoveAt(op.Count - 1);
        }

        return op;
    }

    /// <summary>A text-unicode operation that is malformed or too long for <paramref name="doc"/>.</summary>
    public JsonArray InvalidTextOp(string doc)
    {
        int length = CodePointStarts(doc).Length - 1;
        return random.Next(5) switch
        {
            0 => [length + 1, "x"],
            1 => [1],
            2 => [""],
            3 => [new JsonObject { ["d"] = 0 }],
            _ => [1, 1, "x"],
        };
    }

    private JsonObject Json0Component(JsonNode? doc)
    {
        if (doc is null || random.Next(40) == 0)
        {
            // The whole document replaced.
            var root = new JsonObject { ["p"] = new JsonArray(), ["oi"] = Json0Document() };
            if (doc is not null)
            {
                root["od"] = doc.DeepClone();
            }

            return root;
        }

        List<(JsonArray Path, JsonNode? Node)> nodes = Nodes(doc);
        for (int attempt = 0; ; attempt++)
        {
            (JsonArray path, JsonNode? node) = nodes[random.Next(nodes.Count)];
            JsonObject? component = node switch
            {
                JsonObject obj => ObjectComponent(path, obj),
                JsonArray list => ListComponent(path, list),
                JsonValue value when value.GetValueKind() == System.Text.Json.JsonValueKind.Number => new JsonObject { ["p"] = path.DeepClone(), ["na"] = Number() },
                JsonValue value when value.GetValueKind() == System.Text.Json.JsonValueKind.String => StringComponent(path, value.GetValue<string>()),
                _ => null,
            };
            if (component is not null)
            {
                return component;
            }

            if (attempt > 20)
            {
                return new JsonObject { ["p"] = new JsonArray("fresh"), ["oi"] = Value(1) };
            }
        }
    }

    private JsonObject ObjectComponent(JsonArray path, JsonObject obj)
    {
        string[] present = [.. obj.Select(p => p.Key)];
        string[] absent = [.. Keys.Where(k => !obj.ContainsKey(k))];
        int choice = random.Next(3);
        if (present.Length == 0 || (choice == 0 && absent.Length > 0))
        {
            string key = absent.Length > 0 ? absent[random.Next(absent.Length)] : "extra";
            return new JsonObject { ["p"] = With(path, key), ["oi"] = Value(2) };
        }

        string existing = present[random.Next(present.Length)];
        var component = new JsonObject { ["p"] = With(path, existing), ["od"] = obj[existing]?.DeepClone() };
        if (choice == 1)
        {
            component["oi"] = Value(2);
        }

        return component;
    }

    private JsonObject ListComponent(JsonArray path, JsonArray list)
    {
        int choice = random.Next(4);
        if (list.Count == 0 || choice == 0)
        {
            return new JsonObject { ["p"] = With(path, random.Next(list.Count + 1)), ["li"] = Value(1) };
        }

        // A replace names an element that exists: past the end the original pads the list and the C# type throws (OtTypes).
        int index = random.Next(list.Count);
        return choice switch
        {
            1 => new JsonObject { ["p"] = With(path, index), ["ld"] = list[index]?.DeepClone() },
            2 => new JsonObject { ["p"] = With(path, index), ["ld"] = list[index]?.DeepClone(), ["li"] = Value(1) },
            _ => new JsonObject { ["p"] = With(path, index), ["lm"] = random.Next(list.Count) },
        };
    }

    private JsonObject StringComponent(JsonArray path, string text)
    {
        int[] starts = CodePointStarts(text);
        switch (stringEdits switch { StringEdits.Both => random.Next(3), StringEdits.InsertAndDelete => random.Next(2), _ => 2 })
        {
            case 0:
                return new JsonObject { ["p"] = With(path, starts[random.Next(starts.Length)]), ["si"] = Text(random.Next(1, 4)) };
            case 1 when starts.Length > 1 || stringEdits == StringEdits.InsertAndDelete:
                if (starts.Length <= 1)
                {
                    return new JsonObject { ["p"] = With(path, 0), ["si"] = Text(random.Next(1, 4)) };
                }


                int from = random.Next(starts.Length - 1);
                int to = random.Next(from + 1, starts.Length);
                return new JsonObject { ["p"] = With(path, starts[from]), ["sd"] = text[starts[from]..starts[to]] };
            default:
                // A text0 subtype operation of one or two components, each against the string the previous one left.
                var o = new JsonArray();
                int parts = random.Next(1, 3);
                for (int i = 0; i < parts; i++)
                {
                    starts = CodePointStarts(text);
                    if (starts.Length > 1 && random.Next(2) == 0)
                    {
                        int start = random.Next(starts.Length - 1);
                        int end = random.Next(start + 1, starts.Length);
                        string deleted = text[starts[start]..starts[end]];
                        o.Add(new JsonObject { ["p"] = starts[start], ["d"] = deleted });
                        text = text.Remove(starts[start], deleted.Length);
                    }
                    else
                    {
                        int at = starts[random.Next(starts.Length)];
                        string inserted = Text(random.Next(1, 3));
                        o.Add(new JsonObject { ["p"] = at, ["i"] = inserted });
                        text = text.Insert(at, inserted);
                    }
                }

                return new JsonObject { ["p"] = path.DeepClone(), ["t"] = "text0", ["o"] = o };
        }
    }

    private JsonNode? Value(int depth)
    {
        switch (random.Next(depth > 0 ? 8 : 5))
        {
            case 0:
                return Number();
            case 1:
            case 2:
                return Text(random.Next(0, 6));
            case 3:
                return random.Next(2) == 0;
            case 4:
                return null;
            case 5:
            case 6:
                var list = new JsonArray();
                int count = random.Next(0, 4);
                for (int i = 0; i < count; i++)
                {
                    list.Add(Value(depth - 1));
                }

                return list;
            default:
                var obj = new JsonObject();
                int keys = random.Next(0, 3);
                for (int i = 0; i < keys; i++)
                {
                    obj[Keys[random.Next(Keys.Length)]] = Value(depth - 1);
                }

                return obj;
        }
    }

    private JsonNode Number()
    {
        if (!exactNumbers && random.Next(4) == 0)
        {
            return Fractions[random.Next(Fractions.Length)];
        }

        return random.Next(-5, 10);
    }

    private string Text(int characters)
    {
        var text = new StringBuilder();
        for (int i = 0; i < characters; i++)
        {
            text.Append(Characters[random.Next(Characters.Length)]);
        }

        return text.ToString();
    }

    /// <summary>The UTF-16 index where each code point starts, and the length at the end.</summary>
    private static int[] CodePointStarts(string text)
    {
        var starts = new List<int>(text.Length + 1);
        for (int i = 0; i < text.Length; i += char.IsHighSurrogate(text[i]) && i + 1 < text.Length ? 2 : 1)
        {
            starts.Add(i);
        }

        starts.Add(text.Length);
        return [.. starts];
    }

    /// <summary>Every node of the document with its path, the document itself first.</summary>
    private static List<(JsonArray Path, JsonNode? Node)> Nodes(JsonNode? doc)
    {
        var nodes = new List<(JsonArray, JsonNode?)>();
        Collect(doc, [], nodes);
        return nodes;
    }

    private static void Collect(JsonNode? node, JsonArray path, List<(JsonArray, JsonNode?)> nodes)
    {
        nodes.Add((path, node));
        if (node is JsonObject obj)
        {
            foreach (KeyValuePair<string, JsonNode?> property in obj)
            {
                Collect(property.Value, With(path, property.Key), nodes);
            }
        }
        else if (node is JsonArray list)
        {
            for (int i = 0; i < list.Count; i++)
            {
                Collect(list[i], With(path, i), nodes);
            }
        }
    }

    private static JsonArray With(JsonArray path, JsonNode key)
    {
        var extended = (JsonArray)path.DeepClone();
        extended.Add(key);
        return extended;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{nameof(OtCaseGenerator)}(exactNumbers: {exactNumbers})");
}

/// <summary>How generated json0 operations edit strings.</summary>
internal enum StringEdits
{
    /// <summary><c>si</c>/<c>sd</c> components and <c>t: "text0"</c> subtype components.</summary>
    Both,

    /// <summary><c>si</c>/<c>sd</c> only.</summary>
    InsertAndDelete,

    /// <summary><c>t: "text0"</c> only.</summary>
    Subtype,
}
