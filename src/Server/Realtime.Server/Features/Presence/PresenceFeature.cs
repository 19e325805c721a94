using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Realtime.Internal;

namespace Realtime.Server;

/// <summary>
/// Presence, as the original framework's presence feature speaks it (docs/presence.md): message type <c>presence</c> whose data is a
/// JSON string holding <c>{"a": …}</c>. <c>s</c> subscribes (the sender gets every state of the room), <c>d</c> sets the sender's state
/// (<c>a</c> to the subscribers the first time, <c>d</c> after), <c>df</c> sets one field of it, <c>r</c> removes it; changes go to the
/// room's subscribers but the sender, on every node. States are member states (cluster-wide through the backplane) and leave with
/// their connection.
/// </summary>
internal sealed class PresenceFeature(PresenceOptions options) : RealtimeFeature("presence", [MessageType])
{
    public const string MessageType = "presence";

    /// <summary>The room's subscribed connections (the original's Socket.IO channel of the same name).</summary>
    public const string Channel = "presence-subscribed";

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // The states of this node's connections as their owner last set them: a field update needs the whole state, and only its owner
    // changes it, one message at a time. Weak: a connection replaced by a newer one with its id is not told it left, and its entry
    // goes with it.
    private readonly ConditionalWeakTable<ServerConnection, byte[]> _local = [];

    public PresenceOptions Options { get; } = options;

    protected override async ValueTask OnMessageAsync(ServerConnection connection, Message message, CancellationToken cancellationToken)
    {
        if (message.IsBinary || message.Data.ValueKind != JsonValueKind.String)
        {
            return; // the original ignores data that is not a string
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(message.Data.GetString()!);
        }
        catch (JsonException ex)
        {
            SendError(connection, "Failed to parse presence message: " + ex.Message);
            return;
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("a", out JsonElement action) || action.ValueKind != JsonValueKind.String)
            {
                return;
            }

            switch (action.GetString())
            {
                case "s":
                    await SubscribeAsync(connection, cancellationToken).ConfigureAwait(false);
                    break;
                case "d" when root.TryGetProperty("presence", out JsonElement state):
                    await SetAsync(connection, JsonMarshal.GetRawUtf8Value(state).ToArray(), cancellationToken).ConfigureAwait(false);
                    break;
                case "d" or "r":
                    await RemoveAsync(connection.RoomId, connection.Id, connection, cancellationToken).ConfigureAwait(false);
                    break;
                case "df" when root.TryGetProperty("fieldUpdate", out JsonElement update):
                    await SetFieldAsync(connection, update, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    break; // "u" and anything unknown: ignored, as by the original
            }
        }
    }

    protected override ValueTask OnLeaveAsync(string roomId, string connectionId, ServerConnection? connection, CancellationToken cancellationToken)
        => RemoveAsync(roomId, connectionId, connection, cancellationToken);

    private async ValueTask SubscribeAsync(ServerConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            await JoinChannelAsync(connection, Channel, async ct =>
            {
                IReadOnlyDictionary<string, ReadOnlyMemory<byte>> states = await GetMemberStatesAsync(connection.RoomId, ct).ConfigureAwait(false);
                return Encode("s", states);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException)
        {
            SendError(connection, $"Presence: the room's states are larger than a message may be (RealtimeOptions.MaxMessageSize); lower PresenceOptions.MaxStateBytes or MaxStatesPerRoom.");
        }
    }

    private async ValueTask SetAsync(ServerConnection connection, byte[] state, CancellationToken cancellationToken)
    {
        if (state.Length > Options.MaxStateBytes)
        {
            SendError(connection, $"Presence state refused: {state.Length} bytes, more than the limit of {Options.MaxStateBytes} (PresenceOptions.MaxStateBytes).");
            return;
        }

        MemberStateChange change = await SetMemberStateAsync(connection.RoomId, connection.Id, state, Options.MaxStatesPerRoom, cancellationToken).ConfigureAwait(false);
        if (change == MemberStateChange.Refused)
        {
            SendError(connection, $"Presence state refused: the room holds {Options.MaxStatesPerRoom} states, the limit (PresenceOptions.MaxStatesPerRoom).");
            return;
        }

        _local.AddOrUpdate(connection, state);
        Broadcast(connection.RoomId, Channel, Encode(change == MemberStateChange.Added ? "a" : "d", One(connection.Id, state)), connection.Id);
    }

    private async ValueTask SetFieldAsync(ServerConnection connection, JsonElement update, CancellationToken cancellationToken)
    {
        if (update.ValueKind != JsonValueKind.Object || !update.TryGetProperty("k", out JsonElement keyElement) || keyElement.ValueKind != JsonValueKind.String
            || keyElement.GetString() is not { } key || key is "__proto__" or "constructor" or "prototype"
            || !_local.TryGetValue(connection, out byte[]? current) || ParseObject(current) is not JsonObject state)
        {
            return; // as the original: only a string key, never one that reaches an object's prototype, and only into an object state
        }

        bool hasValue = update.TryGetProperty("v", out JsonElement value);
        if (hasValue)
        {
            state[key] = JsonNode.Parse(JsonMarshal.GetRawUtf8Value(value));
        }
        else
        {
            state.Remove(key); // JavaScript's undefined: the field is gone from the JSON
        }

        var buffer = new ArrayBufferWriter<byte>(current.Length + 64);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            state.WriteTo(writer);
        }

        byte[] updated = buffer.WrittenSpan.ToArray();
        if (updated.Length > Options.MaxStateBytes)
        {
            SendError(connection, $"Presence state refused: {updated.Length} bytes, more than the limit of {Options.MaxStateBytes} (PresenceOptions.MaxStateBytes).");
            return;
        }

        MemberStateChange change = await SetMemberStateAsync(connection.RoomId, connection.Id, updated, Options.MaxStatesPerRoom, cancellationToken).ConfigureAwait(false);
        if (change == MemberStateChange.Refused)
        {
            SendError(connection, $"Presence state refused: the room holds {Options.MaxStatesPerRoom} states, the limit (PresenceOptions.MaxStatesPerRoom).");
            return;
        }

        _local.AddOrUpdate(connection, updated);

        // Added: the state was removed for everyone meanwhile (its node was taken for dead), so the others hold none to merge a field
        // into: they get the whole state as an add.
        Broadcast(connection.RoomId, Channel, change == MemberStateChange.Added
            ? Encode("a", One(connection.Id, updated))
            : EncodeField(connection.Id, key, hasValue ? JsonMarshal.GetRawUtf8Value(value).ToArray() : null), connection.Id);
    }

    private async ValueTask RemoveAsync(string roomId, string connectionId, ServerConnection? connection, CancellationToken cancellationToken)
    {
        if (connection is not null)
        {
            _local.Remove(connection);
        }

        if (await RemoveMemberStateAsync(roomId, connectionId, cancellationToken).ConfigureAwait(false))
        {
            Broadcast(roomId, Channel, EncodeRemoved(connectionId), connectionId);
        }
    }

    /// <summary>A stored state as an object to change, or <see langword="null"/> when it is none (or one with a key twice, which
    /// JavaScript reads as its last value and this parser refuses: the field update is then ignored).</summary>
    private static JsonObject? ParseObject(byte[] state)
    {
        try
        {
            return JsonNode.Parse(state) as JsonObject is { } node && node.Count >= 0 ? node : null;
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    private static IEnumerable<KeyValuePair<string, ReadOnlyMemory<byte>>> One(string connectionId, byte[] state) => [new(connectionId, state)];

    /// <summary><c>{"a":action,"presences":{id:state,…}}</c> as a JSON string.</summary>
    private static Message Encode(string action, IEnumerable<KeyValuePair<string, ReadOnlyMemory<byte>>> states)
        => ToMessage(writer =>
        {
            writer.WriteString("a"u8, action);
            writer.WriteStartObject("presences"u8);
            foreach (KeyValuePair<string, ReadOnlyMemory<byte>> state in states)
            {
                writer.WritePropertyName(state.Key);
                writer.WriteRawValue(state.Value.Span, skipInputValidation: true);
            }

            writer.WriteEndObject();
        });

    /// <summary><c>{"a":"df","fieldUpdates":{id:{"k":key,"v":value}}}</c> as a JSON string.</summary>
    private static Message EncodeField(string connectionId, string key, byte[]? value)
        => ToMessage(writer =>
        {
            writer.WriteString("a"u8, "df");
            writer.WriteStartObject("fieldUpdates"u8);
            writer.WriteStartObject(connectionId);
            writer.WriteString("k"u8, key);
            if (value is not null)
            {
                writer.WritePropertyName("v"u8);
                writer.WriteRawValue(value, skipInputValidation: true);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        });

    /// <summary><c>{"a":"r","presencesIds":[id]}</c> as a JSON string.</summary>
    private static Message EncodeRemoved(string connectionId)
        => ToMessage(writer =>
        {
            writer.WriteString("a"u8, "r");
            writer.WriteStartArray("presencesIds"u8);
            writer.WriteStringValue(connectionId);
            writer.WriteEndArray();
        });

    /// <summary>A presence message: the JSON object <paramref name="write"/> writes, as a JSON string (the original's form).</summary>
    private static Message ToMessage(Action<Utf8JsonWriter> write)
    {
        var inner = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(inner, WriterOptions))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        var outer = new ArrayBufferWriter<byte>(inner.WrittenCount + 64);
        using (var writer = new Utf8JsonWriter(outer, WriterOptions))
        {
            writer.WriteStringValue(inner.WrittenSpan);
        }

        return new Message(MessageType, new LazyJson(outer.WrittenMemory));
    }
}
