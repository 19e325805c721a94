using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Realtime.Internal.Ot;

/// <summary>
/// Reading and writing JSON values with JavaScript's rules, where the npm originals of the OT types rely on them: numbers are
/// doubles (so <c>na</c> adds as JavaScript adds), <c>-0</c> and non-finite results are written as <c>JSON.stringify</c> writes them,
/// and <c>===</c> between a component's values compares primitives by value and objects by identity.
/// </summary>
internal static class JsValues
{
    public static bool TryGetNumber(JsonNode? node, out double value)
    {
        value = 0;
        if (node is not JsonValue json || json.GetValueKind() != JsonValueKind.Number)
        {
            return false;
        }

        if (json.TryGetValue(out value))
        {
            return true;
        }

        if (json.TryGetValue(out JsonElement element))
        {
            value = element.GetDouble();
            return true;
        }

        if (json.TryGetValue(out int i))
        {
            value = i;
            return true;
        }

        if (json.TryGetValue(out long l))
        {
            value = l;
            return true;
        }

        if (json.TryGetValue(out decimal m))
        {
            value = (double)m;
            return true;
        }

        if (json.TryGetValue(out float f))
        {
            value = f;
            return true;
        }

        // Any other CLR number a caller put in a node: its JSON text is the number.
        value = double.Parse(json.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
        return true;
    }

    public static bool TryGetString(JsonNode? node, out string value)
    {
        if (node is JsonValue json && json.GetValueKind() == JsonValueKind.String)
        {
            value = json.GetValue<string>();
            return true;
        }

        value = string.Empty;
        return false;
    }

    /// <summary>A number as JavaScript's <c>JSON.stringify</c> writes it: <c>-0</c> is <c>0</c>, NaN and infinities are <c>null</c>.</summary>
    public static JsonNode? Number(double value)
    {
        if (!double.IsFinite(value))
        {
            return null;
        }

        return JsonValue.Create(value == 0 ? 0d : value);
    }

    /// <summary>Whether a component's value is <c>===</c> another's after the original clones the component: primitives compare by
    /// value, objects and arrays never compare equal (they are distinct copies).</summary>
    public static bool StrictEquals(JsonNode? a, JsonNode? b)
    {
        if (a is null || b is null)
        {
            return a is null && b is null;
        }

        if (a is not JsonValue x || b is not JsonValue y)
        {
            return false;
        }

        JsonValueKind kind = x.GetValueKind();
        if (kind != y.GetValueKind())
        {
            return false;
        }

        return kind switch
        {
            JsonValueKind.Number => TryGetNumber(x, out double p) && TryGetNumber(y, out double q) && p == q,
            JsonValueKind.String => string.Equals(x.GetValue<string>(), y.GetValue<string>(), StringComparison.Ordinal),
            _ => true, // true, false
        };
    }

    /// <summary>A JavaScript number as a property name (<c>String(n)</c>), for a number used as an object key.</summary>
    public static string NumberToKey(double value)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "Infinity" : "-Infinity";
        }

        if (value == Math.Floor(value) && Math.Abs(value) < 1e21)
        {
            return ((decimal)value).ToString(CultureInfo.InvariantCulture);
        }

        return value.ToString("R", CultureInfo.InvariantCulture);
    }

    /// <summary>JavaScript's <c>Number(text)</c> for the strings a path may hold.</summary>
    public static double StringToNumber(string text)
    {
        string trimmed = text.Trim();
        if (trimmed.Length == 0)
        {
            return 0;
        }

        return double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) ? value : double.NaN;
    }

    /// <summary>JavaScript's <c>String.prototype.slice</c>: negative positions count from the end, positions are clamped.</summary>
    public static string Slice(string text, long start, long end = long.MaxValue)
    {
        int length = text.Length;
        long from = start < 0 ? Math.Max(length + start, 0) : Math.Min(start, length);
        long to = end < 0 ? Math.Max(length + end, 0) : Math.Min(end, length);
        return to <= from ? string.Empty : text.Substring((int)from, (int)(to - from));
    }
}
