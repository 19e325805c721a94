using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Realtime;

/// <summary>
/// A received message's data as its exact UTF-8 JSON text (already validated by the frame reader), parsed into a
/// <see cref="JsonElement"/> the first time it is asked for. A relay copies the text and never parses it.
/// </summary>
internal sealed class LazyJson(ReadOnlyMemory<byte> utf8)
{
    private StrongBox<JsonElement>? _element;

    public ReadOnlyMemory<byte> Utf8 { get; } = utf8;

    /// <summary>Whether the data is the JSON literal <c>null</c>.</summary>
    public bool IsNull => Utf8.Span.SequenceEqual("null"u8);

    /// <summary>The parsed data; parsed once (a race parses twice and keeps one), and valid for the message's whole life.</summary>
    public JsonElement Element
    {
        get
        {
            StrongBox<JsonElement>? element = Volatile.Read(ref _element);
            if (element is null)
            {
                // Parsed into arrays of its own, not the pool's: the element outlives any scope that could dispose a document, and
                // an undisposed pooled document would hand its rented buffers to the GC instead of back to the pool.
                var reader = new Utf8JsonReader(Utf8.Span);
                var parsed = new StrongBox<JsonElement>(JsonElement.ParseValue(ref reader));
                element = Interlocked.CompareExchange(ref _element, parsed, null) ?? parsed;
            }

            return element.Value;
        }
    }
}
