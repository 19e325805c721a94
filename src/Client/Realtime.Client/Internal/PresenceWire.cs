using System.Buffers;
using System.Collections.Immutable;
using System.Text;
using System.Text.Json;

namespace Realtime.Client.Internal;

/// <summary>
/// The presence wire of js-collaboration (message type <c>"presence"</c>): each message's data is a JSON <em>string</em> that holds
/// an object with an action <c>a</c>. This class writes the client's requests and reads the server's messages; it keeps no state.
/// </summary>
internal static class PresenceWire
{
    /// <summary>The message type of every presence message, both ways.</summary>
    public const string MessageType = "presence";

    /// <summary>Subscribe: the server answers with every state of the room (<see cref="PresenceAction.Subscribed"/>).</summary>
    public const string Subscribe = """{"a":"s"}""";

    /// <summary>Remove the sender's state.</summary>
    public const string Remove = """{"a":"r"}""";

    /// <summary>The keys a field update may not set: the server ignores them (they would reach an object's prototype in JavaScript).</summary>
    public static bool IsReservedKey(string key) => key is "__proto__" or "constructor" or "prototype";

    /// <summary><c>{"a":"d","presence":state}</c>: set the sender's state.</summary>
    public static string SetState(JsonElement state, JsonSerializerOptions options) => Write((state, options), static (w, s) =>
    {
        w.WriteString("a"u8, "d"u8);
        w.WritePropertyName("presence"u8);
        s.state.WriteTo(w);
    }, options);

    /// <summary><c>{"a":"df","fieldUpdate":{"k":key,"v":value}}</c>: set one field of the sender's (object) state.</summary>
    public static string SetField(string key, JsonElement value, JsonSerializerOptions options) => Write((key, value), static (w, s) =>
    {
        w.WriteString("a"u8, "df"u8);
        w.WriteStartObject("fieldUpdate"u8);
        w.WriteString("k"u8, s.key);
        w.WritePropertyName("v"u8);
        s.value.WriteTo(w);
        w.WriteEndObject();
    }, options);

    /// <summary>
    /// <paramref name="state"/> (an object) with <paramref name="key"/> set to <paramref name="value"/>, as a JavaScript assignment
    /// does: an existing key keeps its place, a new key goes last. No value (JavaScript's <c>undefined</c>) removes the key.
    /// </summary>
    public static JsonElement WithField(JsonElement state, string key, JsonElement? value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            bool written = false;
            foreach (JsonProperty property in state.EnumerateObject())
            {
                if (!property.NameEquals(key))
                {
                    property.WriteTo(w);
                }
                else if (!written && value is JsonElement replacement)
                {
                    w.WritePropertyName(key);
                    replacement.WriteTo(w);
                    written = true;
                }
            }

            if (!written && value is JsonElement added)
            {
                w.WritePropertyName(key);
                added.WriteTo(w);
            }

            w.WriteEndObject();
        }

        return JsonSerializer.Deserialize<JsonElement>(buffer.WrittenSpan);
    }

    /// <summary>Reads a received presence message.</summary>
    /// <param name="message">Any received message.</param>
    /// <param name="action">The action.</param>
    /// <param name="body">The parsed object, which holds the action's fields.</param>
    /// <param name="problem">Why a presence message was not understood; <see langword="null"/> when it is not a presence message at all.</param>
    /// <returns>Whether it is a presence message with a known action.</returns>
    public static bool TryRead(Message message, out PresenceAction action, out JsonElement body, out string? problem)
    {
        action = default;
        body = default;
        problem = null;
        if (message.Type != MessageType || message.IsBinary)
        {
            return false;
        }

        JsonElement data = message.Data;
        if (data.ValueKind != JsonValueKind.String)
        {
            problem = $"its data is a JSON {data.ValueKind}, not a string";
            return false;
        }

        try
        {
            body = JsonSerializer.Deserialize<JsonElement>(data.GetString()!);
        }
        catch (JsonException)
        {
            problem = "its data is not a string of JSON";
            return false;
        }

        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("a"u8, out JsonElement a) || a.ValueKind != JsonValueKind.String)
        {
            problem = "it has no action";
            return false;
        }

        action = a.GetString() switch
        {
            "s" => PresenceAction.Subscribed,
            "a" => PresenceAction.Added,
            "d" => PresenceAction.Updated,
            "df" => PresenceAction.FieldsUpdated,
            "r" => PresenceAction.Removed,
            _ => PresenceAction.Unknown,
        };
        if (action == PresenceAction.Unknown)
        {
            problem = "its action is unknown";
            return false;
        }

        return true;
    }

    /// <summary>The states of <c>s</c>, <c>a</c> and <c>d</c> messages (<c>presences</c>: id → state); empty when absent.</summary>
    public static ImmutableDictionary<string, JsonElement> ReadStates(JsonElement body)
    {
        var states = ImmutableDictionary.CreateBuilder<string, JsonElement>(StringComparer.Ordinal);
        if (body.TryGetProperty("presences"u8, out JsonElement presences) && presences.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty property in presences.EnumerateObject())
            {
                states[property.Name] = property.Value;
            }
        }

        return states.ToImmutable();
    }

    /// <summary>
    /// The field updates of a <c>df</c> message (<c>fieldUpdates</c>: id → <c>{k, v}</c>); entries without a string <c>k</c> are skipped.
    /// An entry without <c>v</c> (a JavaScript client set the field to <c>undefined</c>) has no value: the field is removed.
    /// </summary>
    public static IEnumerable<(string Id, string Key, JsonElement? Value)> ReadFieldUpdates(JsonElement body)
    {
        if (!body.TryGetProperty("fieldUpdates"u8, out JsonElement updates) || updates.ValueKind != JsonValueKind.Object)
        {
            yield break;
        }

        foreach (JsonProperty property in updates.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Object &&
                property.Value.TryGetProperty("k"u8, out JsonElement k) && k.ValueKind == JsonValueKind.String)
            {
                yield return (property.Name, k.GetString()!, property.Value.TryGetProperty("v"u8, out JsonElement v) ? v : null);
            }
        }
    }

    /// <summary>The ids of an <c>r</c> message (<c>presencesIds</c>); entries that are not strings are skipped.</summary>
    public static IEnumerable<string> ReadRemovedIds(JsonElement body)
    {
        if (!body.TryGetProperty("presencesIds"u8, out JsonElement ids) || ids.ValueKind != JsonValueKind.Array)
        {
            yield break;
        }

        foreach (JsonElement id in ids.EnumerateArray())
        {
            if (id.ValueKind == JsonValueKind.String)
            {
                yield return id.GetString()!;
            }
        }
    }

    private static string Write<TState>(TState state, Action<Utf8JsonWriter, TState> body, JsonSerializerOptions options)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = options.Encoder }))
        {
            w.WriteStartObject();
            body(w, state);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}

/// <summary>The server-to-client presence actions.</summary>
internal enum PresenceAction
{
    /// <summary>An action this client does not know (ignored).</summary>
    Unknown,

    /// <summary><c>s</c>: the answer to a subscribe, every state of the room.</summary>
    Subscribed,

    /// <summary><c>a</c>: another connection set its first state.</summary>
    Added,

    /// <summary><c>d</c>: another connection replaced its state.</summary>
    Updated,

    /// <summary><c>df</c>: other connections set one field of their state.</summary>
    FieldsUpdated,

    /// <summary><c>r</c>: other connections' states were removed.</summary>
    Removed,
}
