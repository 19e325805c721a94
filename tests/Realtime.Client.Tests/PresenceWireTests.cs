using System.Text.Json;
using Realtime.Client.Internal;

namespace Realtime.Client.Tests;

/// <summary>The presence wire of js-collaboration-features.md §4: requests as the original client writes them, the server's messages as it reads them.</summary>
public class PresenceWireTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    [Fact]
    public void Requests_are_the_originals_json_strings()
    {
        Assert.Equal("""{"a":"s"}""", PresenceWire.Subscribe);
        Assert.Equal("""{"a":"r"}""", PresenceWire.Remove);
        Assert.Equal("""{"a":"d","presence":{"user":"b","sel":[2,2]}}""",
                     PresenceWire.SetState(JsonSerializer.SerializeToElement(new { User = "b", Sel = new[] { 2, 2 } }, Web), Web));
        Assert.Equal("""{"a":"df","fieldUpdate":{"k":"sel","v":[4,4]}}""",
                     PresenceWire.SetField("sel", JsonSerializer.SerializeToElement(new[] { 4, 4 }, Web), Web));
    }

    [Fact]
    public void The_data_of_a_presence_message_is_a_json_string_holding_the_request()
    {
        // What Connection.SendAsync(request, "presence") puts on the wire.
        var frame = new System.Buffers.ArrayBufferWriter<byte>();
        Protocol.FrameWriter.WriteMessage(frame, PresenceWire.Subscribe, PresenceWire.MessageType, Web);
        JsonElement parsed = JsonDocument.Parse(frame.WrittenMemory).RootElement;
        Assert.Equal("presence", parsed.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.String, parsed.GetProperty("data").ValueKind);
        Assert.Equal("""{"a":"s"}""", parsed.GetProperty("data").GetString());
    }

    [Fact]
    public void Server_messages_are_read_by_action()
    {
        Assert.True(PresenceWire.TryRead(Presence("""{"a":"s","presences":{"A":{"user":"a"},"B":null}}"""), out PresenceAction action, out JsonElement body, out _));
        Assert.Equal(PresenceAction.Subscribed, action);
        Assert.Equal(["A", "B"], PresenceWire.ReadStates(body).Keys.Order(StringComparer.Ordinal));

        Assert.True(PresenceWire.TryRead(Presence("""{"a":"df","fieldUpdates":{"B":{"k":"sel","v":[4,4]},"C":{"v":1},"D":{"k":"gone"}}}"""), out action, out body, out _));
        Assert.Equal(PresenceAction.FieldsUpdated, action);
        Assert.Equal([("B", "sel", "[4,4]"), ("D", "gone", "(none)")],
                     PresenceWire.ReadFieldUpdates(body).Select(u => (u.Id, u.Key, u.Value?.GetRawText() ?? "(none)")));

        Assert.True(PresenceWire.TryRead(Presence("""{"a":"r","presencesIds":["B",7]}"""), out action, out body, out _));
        Assert.Equal(PresenceAction.Removed, action);
        Assert.Equal(["B"], PresenceWire.ReadRemovedIds(body));

        Assert.True(PresenceWire.TryRead(Presence("""{"a":"a","presences":{"B":{}}}"""), out action, out _, out _));
        Assert.Equal(PresenceAction.Added, action);
        Assert.True(PresenceWire.TryRead(Presence("""{"a":"d","presences":{"B":{}}}"""), out action, out _, out _));
        Assert.Equal(PresenceAction.Updated, action);
    }

    [Theory]
    [InlineData("other", "\"{\\\"a\\\":\\\"s\\\"}\"", false)]     // another type: not presence at all
    [InlineData("presence", "{\"a\":\"s\"}", true)]                // an object, not a string
    [InlineData("presence", "\"not json\"", true)]
    [InlineData("presence", "\"[1]\"", true)]
    [InlineData("presence", "\"{\\\"a\\\":\\\"u\\\"}\"", true)]    // an action the client does not handle
    public void Other_messages_are_not_read(string type, string data, bool reported)
    {
        Assert.False(PresenceWire.TryRead(new Message(type, JsonDocument.Parse(data).RootElement), out _, out _, out string? problem));
        Assert.Equal(reported, problem is not null);
    }

    [Fact]
    public void A_field_keeps_its_place_a_new_field_goes_last_and_no_value_removes_it_as_in_javascript()
    {
        JsonElement state = JsonDocument.Parse("""{"user":"b","sel":[1,1],"x":0}""").RootElement;
        Assert.Equal("""{"user":"b","sel":[4,4],"x":0}""", PresenceWire.WithField(state, "sel", JsonDocument.Parse("[4,4]").RootElement).GetRawText());
        Assert.Equal("""{"user":"b","sel":[1,1],"x":0,"typing":true}""", PresenceWire.WithField(state, "typing", JsonDocument.Parse("true").RootElement).GetRawText());

        // A JavaScript client that sets a field to undefined sends no value: the field is gone.
        Assert.Equal("""{"user":"b","x":0}""", PresenceWire.WithField(state, "sel", null).GetRawText());
    }

    private static Message Presence(string json) => new("presence", JsonSerializer.SerializeToElement(json));
}
