using System.Text.Json;

namespace Realtime;

/// <summary>
/// A received message's data as its exact UTF-8 JSON text (already validated by the frame reader), parsed into a
/// <see cref="JsonElement"/> the first time it is asked for. A relay copies the text and never parses it.
/// </summary>
internal sealed class LazyJson(ReadOnlyMemory<byte> utf8)
{
    private JsonDocument? _document;

    public ReadOnlyMemory<byte> Utf8 { get; } = utf8;

    /// <summary>Whether the data is the JSON literal <c>null</c>.</summary>
    public bool IsNull => Utf8.Span.SequenceEqual("null"u8);

    /// <summary>The parsed data; parsed once (a race parses twice and keeps one), and valid for the message's whole life.</summary>
    public JsonElement Element
    {
        get
        {
            JsonDocument? document = Volatile.Read(ref _document);
            if (document is null)
            {
                // Not disposed: the element must stay valid as long as the message is kept (its pooled buffers simply go to the GC).
                var parsed = JsonDocument.Parse(Utf8);
                document = Interlocked.CompareExchange(ref _document, parsed, null) ?? parsed;
            }

            return document.RootElement;
        }
    }
}
