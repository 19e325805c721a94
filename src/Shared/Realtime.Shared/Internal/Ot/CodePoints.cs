namespace Realtime.Internal.Ot;

/// <summary>
/// Converting between code point counts (text-unicode's offsets) and UTF-16 positions (C# and JavaScript string indexes), counting as
/// ot-text-unicode does: any surrogate code unit starts a pair of two units.
/// </summary>
internal static class CodePoints
{
    /// <summary>How many code points the first <paramref name="units"/> UTF-16 units of <paramref name="text"/> hold.</summary>
    /// <exception cref="OtException">The position splits a surrogate pair.</exception>
    public static int Count(ReadOnlySpan<char> text, int units)
    {
        int pairs = 0;
        int i = 0;
        for (; i < units; i++)
        {
            if (char.IsSurrogate(text[i]))
            {
                pairs++;
                i++;
            }
        }

        if (i != units)
        {
            throw new OtException("text-unicode: a position splits a character (a surrogate pair).");
        }

        return i - pairs;
    }

    public static int Count(ReadOnlySpan<char> text) => Count(text, text.Length);

    /// <summary>The UTF-16 length of the first <paramref name="codePoints"/> code points of <paramref name="text"/>; past the end, each
    /// missing code point counts one unit (so a caller can tell the text was too short).</summary>
    public static long Units(ReadOnlySpan<char> text, long codePoints)
    {
        long position = 0;
        for (; codePoints > 0; codePoints--)
        {
            position += position < text.Length && char.IsSurrogate(text[(int)position]) ? 2 : 1;
        }

        return position;
    }

    /// <summary>The code points from <paramref name="start"/> to <paramref name="end"/> (or the end) of <paramref name="text"/>.</summary>
    public static string Slice(string text, long start, long? end = null)
    {
        long from = Units(text, start);
        return end is long last ? JsValues.Slice(text, from, Units(text, last)) : JsValues.Slice(text, from);
    }
}
