using Realtime.Internal.Ot;

namespace Realtime;

/// <summary>The OT types Realtime brings, in C#: the same results as their JavaScript originals on npm (docs/documents.md, "Types").</summary>
/// <remarks>
/// <para>Both types are stateless and thread-safe. They read the operations they are given and never change them; JSON nodes parsed
/// with <see cref="System.Text.Json.Nodes.JsonNode.Parse(string, System.Text.Json.Nodes.JsonNodeOptions?, System.Text.Json.JsonDocumentOptions)"/>
/// are filled in on first read, which is not safe to do from two threads at once, so a caller sharing one operation node between
/// threads reads it once first (or gives each thread its own).</para>
/// <para>Equality with the originals is checked by differential tests on generated documents and concurrent operations
/// (tests/Realtime.Shared.Tests/Ot). Where an original quietly accepts a malformed operation (an operation that is not a list, a
/// json0 <c>na</c> that is not a number, a path element that is neither a key nor an index, a position that is not a whole number),
/// these types throw <see cref="OtException"/> instead. So does a json0 list replace (<c>li</c> with <c>ld</c>) at an index past the
/// end of the list: the original makes a sparse array there, which a tiny operation could make millions of elements long.</para>
/// </remarks>
public static class OtTypes
{
    /// <summary>
    /// json0 (<c>http://sharejs.org/types/JSONv0</c>), ShareDB's default type and the original framework's usual one, as <c>ot-json0</c>
    /// 1.1.0 does it: any JSON document; object, list, number and string components, list moves and subtype components. String
    /// offsets count UTF-16 code units, as JavaScript's do.
    /// </summary>
    /// <remarks>
    /// <para>Components: <c>oi</c>/<c>od</c> (object insert, delete, both: replace), <c>li</c>/<c>ld</c> (list insert, delete, both:
    /// replace), <c>lm</c> (list move), <c>na</c> (number add, in doubles as JavaScript adds), <c>si</c>/<c>sd</c> (string insert and
    /// delete) and <c>t</c>+<c>o</c> with the one subtype ot-json0 ships, <c>text0</c>. On a tie the <see cref="OtSide.Left"/> operation
    /// goes first (inserts) or wins (replaces, moves of one element); a delete of what was already deleted vanishes.</para>
    /// <para>As in the original, an <c>si</c>/<c>sd</c> component and a concurrent <c>t: "text0"</c> component on the same string are
    /// not transformed against each other; a client should edit a string in one of the two forms.</para>
    /// <para><see cref="IOtType.Invert"/> needs the deleted values in <c>od</c>, <c>ld</c> and <c>sd</c>, which json0 operations
    /// always carry.</para>
    /// </remarks>
    public static IOtType Json0 { get; } = new Json0Type();

    /// <summary>
    /// Plain text (<c>http://sharejs.org/types/text-unicode</c>, name <c>text-unicode</c>), as <c>ot-text-unicode</c> 4.0.0 does it: the
    /// snapshot is a string; an operation is a list of skips (numbers of characters), inserts (strings) and deletes (<c>{"d":n}</c> or
    /// <c>{"d":"text"}</c>). Offsets count Unicode code points, not UTF-16 code units.
    /// </summary>
    /// <remarks>
    /// An operation has no empty component, no two skips in a row and no skip at its end; what transform, compose, invert and
    /// normalize return is trimmed the same way, with neighbouring components of one kind merged. A delete that carries its text
    /// (<c>{"d":"text"}</c>) is applied by its length only, as in the original. <see cref="IOtType.Invert"/> throws
    /// <see cref="NotSupportedException"/> for an operation with a <c>{"d":n}</c> delete (the deleted text is not in it).
    /// </remarks>
    public static IOtType TextUnicode { get; } = new TextUnicodeType();
}
