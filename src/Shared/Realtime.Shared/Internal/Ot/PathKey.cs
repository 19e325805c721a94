using System.Text.Json;
using System.Text.Json.Nodes;

namespace Realtime.Internal.Ot;

/// <summary>
/// One element of a json0 path (an object key or a list index), or a list move's target, with the JavaScript comparisons ot-json0
/// makes between them: <c>===</c>, <c>==</c>, <c>&lt;</c> and <c>&lt;=</c> between numbers, strings and <c>undefined</c> (an index past
/// the end of a path). Arithmetic on a key that is not a number gives NaN, as in JavaScript.
/// </summary>
internal readonly struct PathKey
{
    private readonly string? _key;

    private PathKey(PathKeyKind kind, double number, string? key)
    {
        Kind = kind;
        Number = number;
        _key = key;
    }

    public static PathKey Undefined => default;

    public PathKeyKind Kind { get; }

    public double Number { get; }

    public string Key => _key ?? string.Empty;

    public bool IsNumber => Kind == PathKeyKind.Number;

    public static PathKey Of(double number) => new(PathKeyKind.Number, number, null);

    public static PathKey Of(string key) => new(PathKeyKind.String, 0, key);

    public static PathKey Parse(JsonNode? node, string what)
    {
        if (JsValues.TryGetNumber(node, out double number))
        {
            return Of(number);
        }

        if (JsValues.TryGetString(node, out string key))
        {
            return Of(key);
        }

        throw new OtException($"json0: {what} must be a number or a string (it was {Describe(node)}).");
    }

    public JsonNode? ToJson() => Kind switch
    {
        PathKeyKind.Number => JsValues.Number(Number),
        PathKeyKind.String => JsonValue.Create(Key),
        _ => null,
    };

    /// <summary>JavaScript's <c>===</c>.</summary>
    public bool StrictEquals(PathKey other) => Kind == other.Kind && Kind switch
    {
        PathKeyKind.Number => Number == other.Number,
        PathKeyKind.String => string.Equals(_key, other._key, StringComparison.Ordinal),
        _ => true,
    };

    /// <summary>JavaScript's <c>==</c>: a number equals a string that reads as it.</summary>
    public bool LooseEquals(PathKey other)
    {
        if (Kind == other.Kind || Kind == PathKeyKind.Undefined || other.Kind == PathKeyKind.Undefined)
        {
            return StrictEquals(other);
        }

        return ToNumber() == other.ToNumber();
    }

    /// <summary>JavaScript's <c>&lt;</c>.</summary>
    public bool LessThan(PathKey other)
    {
        if (Kind == PathKeyKind.String && other.Kind == PathKeyKind.String)
        {
            return string.CompareOrdinal(_key, other._key) < 0;
        }

        return ToNumber() < other.ToNumber();
    }

    /// <summary>JavaScript's <c>&lt;=</c> (false when either side is NaN).</summary>
    public bool LessOrEqual(PathKey other)
    {
        if (Kind == PathKeyKind.String && other.Kind == PathKeyKind.String)
        {
            return string.CompareOrdinal(_key, other._key) <= 0;
        }

        return ToNumber() <= other.ToNumber();
    }

    public bool GreaterThan(PathKey other) => other.LessThan(this);

    public PathKey Plus(int delta) => Of(ToNumber() + delta);

    public double ToNumber() => Kind switch
    {
        PathKeyKind.Number => Number,
        PathKeyKind.String => JsValues.StringToNumber(Key),
        _ => double.NaN,
    };

    /// <summary>The key as an object property name.</summary>
    public string ToPropertyName() => Kind == PathKeyKind.Number ? JsValues.NumberToKey(Number) : Key;

    /// <summary>The list index this key names when it reads an element (<c>list[key]</c>): a whole number, or a string that is one's
    /// canonical form; -1 when it names no element.</summary>
    public long ToElementIndex()
    {
        double n = Kind switch
        {
            PathKeyKind.Number => Number,
            PathKeyKind.String when JsValues.NumberToKey(JsValues.StringToNumber(Key)) == Key => JsValues.StringToNumber(Key),
            _ => double.NaN,
        };
        return n >= 0 && n == Math.Floor(n) && n < int.MaxValue ? (long)n : -1;
    }

    /// <summary>Where <c>list.splice(key, …)</c> starts in a list of <paramref name="count"/> elements.</summary>
    public int ToSpliceStart(int count)
    {
        double n = ToNumber();
        if (double.IsNaN(n))
        {
            return 0;
        }

        n = Math.Truncate(n);
        return n < 0 ? (int)Math.Max(count + n, 0) : (int)Math.Min(n, count);
    }

    public override string ToString() => Kind switch
    {
        PathKeyKind.Number => JsValues.NumberToKey(Number),
        PathKeyKind.String => Key,
        _ => "undefined",
    };

    internal static string Describe(JsonNode? node) => node is null ? "null" : node.ToJsonString();
}

/// <summary>What a <see cref="PathKey"/> holds.</summary>
internal enum PathKeyKind
{
    Undefined,
    Number,
    String,
}
