using Realtime.Internal.Ot;

namespace Realtime;

/// <summary>The OT types Realtime brings, in C#: the same results as their JavaScript originals on npm (docs/documents.md, "Types").</summary>
public static class OtTypes
{
    /// <summary>
    /// json0 (<c>http://sharejs.org/types/JSONv0</c>), ShareDB's default type and the original framework's usual one, as <c>ot-json0</c>
    /// 1.1.0 does it: any JSON document; object, list, number and string components, list moves and subtype components. String
    /// offsets count UTF-16 code units, as JavaScript's do.
    /// </summary>
    public static IOtType Json0 { get; } = new Json0Type();

    /// <summary>
    /// Plain text (<c>http://sharejs.org/types/text-unicode</c>, name <c>text-unicode</c>), as <c>ot-text-unicode</c> 4.0.0 does it: the
    /// snapshot is a string; an operation is a list of skips (numbers of characters), inserts (strings) and deletes (<c>{"d":n}</c> or
    /// <c>{"d":"text"}</c>). Offsets count Unicode code points, not UTF-16 code units.
    /// </summary>
    public static IOtType TextUnicode { get; } = new TextUnicodeType();
}
