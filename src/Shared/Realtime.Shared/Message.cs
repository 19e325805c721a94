using System.Text.Json;

namespace Realtime;

/// <summary>
/// One application message, in either direction: a text message (JSON <see cref="Data"/>) or a
/// binary message (<see cref="Bytes"/>), each with an optional <see cref="Type"/>.
/// </summary>
/// <remarks>
/// A received message owns its data: it stays valid after the handler returns, so it may be kept.
/// <c>default(Message)</c> is a text message with no type whose <see cref="Data"/> is undefined.
/// A message takes a type of any length, and keeps <c>""</c> apart from no type, as the original framework does; the wire
/// protocol in use may carry less: protocol v1 carries at most 255 bytes of UTF-8, and no <c>""</c> on a binary message
/// (see <see cref="Protocol.FrameWriter"/>).
/// </remarks>
public readonly struct Message
{
    private static readonly JsonSerializerOptions DefaultJsonOptions = new(JsonSerializerDefaults.Web);

    private readonly JsonElement _data;
    private readonly LazyJson? _json;

    /// <summary>Creates a text message.</summary>
    /// <param name="type">The message type, or <see langword="null"/> for none (<c>""</c> is a type of its own).</param>
    /// <param name="data">The JSON payload. An undefined element is read as JSON <c>null</c>.</param>
    public Message(string? type, JsonElement data)
    {
        Type = type;
        _data = data.ValueKind == JsonValueKind.Undefined ? JsonNull : data;
        _json = null;
        IsBinary = false;
        Bytes = ReadOnlyMemory<byte>.Empty;
    }

    /// <summary>A received text message whose data is kept as its exact JSON text, parsed only when <see cref="Data"/> is read.</summary>
    internal Message(string? type, LazyJson data)
    {
        Type = type;
        _data = default;
        _json = data;
        IsBinary = false;
        Bytes = ReadOnlyMemory<byte>.Empty;
    }

    /// <summary>Creates a binary message.</summary>
    /// <param name="type">The message type, or <see langword="null"/> for none (<c>""</c> is a type of its own).</param>
    /// <param name="bytes">The payload, which the message references without copying.</param>
    public Message(string? type, ReadOnlyMemory<byte> bytes)
    {
        Type = type;
        _data = default;
        _json = null;
        IsBinary = true;
        Bytes = bytes;
    }

    /// <summary>The message type, or <see langword="null"/> when there is none; <c>""</c> is kept as <c>""</c> (the original framework tells them apart).</summary>
    public string? Type { get; }

    /// <summary>Whether this is a binary message (<see cref="Bytes"/>) rather than a text one (<see cref="Data"/>).</summary>
    public bool IsBinary { get; }

    /// <summary>The JSON payload of a text message: <see cref="JsonValueKind.Null"/> when the frame had none; undefined for a binary message.</summary>
    /// <remarks>A received message parses its data the first time this is read: a message that is only relayed is never parsed.</remarks>
    public JsonElement Data => _json is null ? _data : _json.Element;

    /// <summary>The payload of a binary message; empty for a text message.</summary>
    public ReadOnlyMemory<byte> Bytes { get; }

    /// <summary>A JSON <c>null</c> element, the data of a text message that carries none.</summary>
    internal static JsonElement JsonNull { get; } = JsonDocument.Parse("null"u8.ToArray()).RootElement;

    /// <summary>Creates a text message by serializing <paramref name="data"/> with System.Text.Json.</summary>
    /// <typeparam name="T">The payload's type.</typeparam>
    /// <param name="data">The payload.</param>
    /// <param name="type">The message type, or <see langword="null"/>.</param>
    /// <param name="options">Serializer options; <see langword="null"/> means <see cref="JsonSerializerDefaults.Web"/> (camelCase).</param>
    /// <returns>The message.</returns>
    public static Message Create<T>(T data, string? type = null, JsonSerializerOptions? options = null)
        => new(type, JsonSerializer.SerializeToElement(data, options ?? DefaultJsonOptions));

    /// <summary>Deserializes <see cref="Data"/> into <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">The target type.</typeparam>
    /// <param name="options">Serializer options; <see langword="null"/> means <see cref="JsonSerializerDefaults.Web"/> (camelCase names, case-insensitive reads).</param>
    /// <returns>The deserialized value; <see langword="default"/> for JSON <c>null</c>.</returns>
    /// <exception cref="InvalidOperationException">This is a binary message; read <see cref="Bytes"/> instead.</exception>
    /// <exception cref="JsonException">The data does not fit <typeparamref name="T"/>.</exception>
    public T? GetData<T>(JsonSerializerOptions? options = null)
    {
        if (IsBinary)
        {
            throw new InvalidOperationException("This is a binary message: read Bytes instead of GetData<T>().");
        }

        if (_json is not null)
        {
            return JsonSerializer.Deserialize<T>(_json.Utf8.Span, options ?? DefaultJsonOptions);
        }

        return _data.ValueKind == JsonValueKind.Undefined ? default : _data.Deserialize<T>(options ?? DefaultJsonOptions);
    }

    /// <summary>The same message with another type; the data is shared, not copied (nor parsed, for a received message).</summary>
    /// <param name="type">The message type, or <see langword="null"/> for none (<c>""</c> is a type of its own).</param>
    /// <returns>The retyped message.</returns>
    public Message WithType(string? type)
        => IsBinary ? new Message(type, Bytes) : _json is not null ? new Message(type, _json) : new Message(type, _data);

    /// <inheritdoc/>
    public override string ToString()
        => IsBinary ? $"binary message (type {TypeText}, {Bytes.Length} bytes)" : $"text message (type {TypeText})";

    private string TypeText => Type is null ? "none" : Type.Length == 0 ? "\"\"" : Type;

    /// <summary>The exact JSON text of a text message's data, without parsing it; empty when it is JSON <c>null</c> or absent.</summary>
    internal ReadOnlySpan<byte> DataUtf8
    {
        get
        {
            if (_json is not null)
            {
                return _json.IsNull ? default : _json.Utf8.Span;
            }

            return _data.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? default : System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(_data);
        }
    }
}
