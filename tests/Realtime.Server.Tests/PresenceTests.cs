using System.Text.Json;
using Realtime.TestSupport;

namespace Realtime.Server.Tests;

/// <summary>
/// Presence (<see cref="PresenceServerExtensions.UsePresence"/>) on real Kestrel, over the compatibility endpoint and over protocol v1,
/// with the original's wire (docs/presence.md): every action, late joiners, leaving, malformed input and the limits.
/// </summary>
public sealed class PresenceTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_captured_session_of_the_original_plays_the_same(bool compatibility)
    {
        await using KestrelRealtimeHost host = await StartAsync();
        await using IPeer a = await Peers.ConnectAsync(host, compatibility, "room1");
        await using IPeer b = await Peers.ConnectAsync(host, compatibility, "room1");

        await a.SendAsync("presence", Presence("""{"a":"d","presence":{"user":"a","sel":[1,1]}}"""));
        await a.SendAsync("presence", Presence("""{"a":"s"}"""));
        Assert.Equal($$$$"""{"a":"s","presences":{"{{{{a.Id}}}}":{"user":"a","sel":[1,1]}}}""", await ReceivePresenceAsync(a)); // its own state comes back

        await b.SendAsync("presence", Presence("""{"a":"s"}"""));
        Assert.Equal($$$$"""{"a":"s","presences":{"{{{{a.Id}}}}":{"user":"a","sel":[1,1]}}}""", await ReceivePresenceAsync(b));
        await b.SendAsync("presence", Presence("""{"a":"d","presence":{"user":"b","sel":[2,2]}}"""));
        Assert.Equal($$$$"""{"a":"a","presences":{"{{{{b.Id}}}}":{"user":"b","sel":[2,2]}}}""", await ReceivePresenceAsync(a)); // first state: add
        await b.SendAsync("presence", Presence("""{"a":"d","presence":{"user":"b","sel":[3,3]}}"""));
        Assert.Equal($$$$"""{"a":"d","presences":{"{{{{b.Id}}}}":{"user":"b","sel":[3,3]}}}""", await ReceivePresenceAsync(a)); // then: update
        await b.SendAsync("presence", Presence("""{"a":"df","fieldUpdate":{"k":"sel","v":[4,4]}}"""));
        Assert.Equal($$$$"""{"a":"df","fieldUpdates":{"{{{{b.Id}}}}":{"k":"sel","v":[4,4]}}}""", await ReceivePresenceAsync(a));
        await b.SendAsync("presence", Presence("""{"a":"r"}"""));
        Assert.Equal($$$$"""{"a":"r","presencesIds":["{{{{b.Id}}}}"]}""", await ReceivePresenceAsync(a));
        await b.SendAsync("presence", Presence("""{"a":"d","presence":{"user":"b","back":true}}"""));
        Assert.Equal($$$$"""{"a":"a","presences":{"{{{{b.Id}}}}":{"user":"b","back":true}}}""", await ReceivePresenceAsync(a)); // after a remove: add again

        // The sender never hears its own changes: b's next presence message is the answer to its second subscribe.
        await b.SendAsync("presence", Presence("""{"a":"s"}"""));
        JsonElement snapshot = ParsePresence(await ReceivePresenceAsync(b));
        Assert.Equal("s", snapshot.GetProperty("a").GetString());
        Assert.Equal("""{"user":"b","back":true}""", snapshot.GetProperty("presences").GetProperty(b.Id).GetRawText()); // the field update went in

        // A late joiner gets every state (a reply over 128 bytes: gzip+base64 on the compatibility wire), then the leaves.
        await using IPeer c = await Peers.ConnectAsync(host, compatibility, "room1");
        await c.SendAsync("presence", Presence("""{"a":"s"}"""));
        JsonElement late = ParsePresence(await ReceivePresenceAsync(c)).GetProperty("presences");
        Assert.Equal(new[] { a.Id, b.Id }.Order(StringComparer.Ordinal), late.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        await b.DisposeAsync();
        Assert.Equal($$$$"""{"a":"r","presencesIds":["{{{{b.Id}}}}"]}""", await ReceivePresenceAsync(a));
        Assert.Equal($$$$"""{"a":"r","presencesIds":["{{{{b.Id}}}}"]}""", await ReceivePresenceAsync(c));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Malformed_and_foreign_input_is_refused_or_ignored_as_by_the_original_and_the_connection_stays(bool compatibility)
    {
        await using KestrelRealtimeHost host = await StartAsync();
        await using IPeer a = await Peers.ConnectAsync(host, compatibility, "room1");
        await using IPeer b = await Peers.ConnectAsync(host, compatibility, "room1");
        await b.SendAsync("presence", Presence("""{"a":"s"}"""));
        Assert.Equal("""{"a":"s","presences":{}}""", await ReceivePresenceAsync(b));

        await a.SendAsync("presence", Presence("{not json"));
        Assert.StartsWith("Failed to parse presence message: ", await a.ReceiveErrorAsync());

        // Ignored, with no answer: data that is not a string, JSON that is not an object, an unknown action, a field update before any
        // state, the prototype's keys, a key that is not a string.
        await a.SendAsync("presence", """{"a":"d","presence":1}""");
        await a.SendAsync("presence", Presence("[1,2]"));
        await a.SendAsync("presence", Presence("""{"a":"u"}"""));
        await a.SendAsync("presence", Presence("""{"a":"df","fieldUpdate":{"k":"x","v":1}}"""));
        await a.SendAsync("presence", Presence("""{"a":"d","presence":{"n":0}}"""));
        Assert.Equal($$$$"""{"a":"a","presences":{"{{{{a.Id}}}}":{"n":0}}}""", await ReceivePresenceAsync(b));
        foreach (string key in new[] { "\"__proto__\"", "\"constructor\"", "\"prototype\"", "7" })
        {
            await a.SendAsync("presence", Presence($$$$"""{"a":"df","fieldUpdate":{"k":{{{{key}}}},"v":{"polluted":true}}}"""));
        }

        await a.SendAsync("presence", Presence("""{"a":"df","fieldUpdate":{"k":"n","v":1}}"""));
        Assert.Equal($$$$"""{"a":"df","fieldUpdates":{"{{{{a.Id}}}}":{"k":"n","v":1}}}""", await ReceivePresenceAsync(b));

        // {"a":"d"} without a presence is a remove.
        await a.SendAsync("presence", Presence("""{"a":"d"}"""));
        Assert.Equal($$$$"""{"a":"r","presencesIds":["{{{{a.Id}}}}"]}""", await ReceivePresenceAsync(b));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_subscriber_gets_nothing_before_subscribing_and_a_lost_transport_removes_its_state(bool compatibility)
    {
        await using KestrelRealtimeHost host = await StartAsync();
        await using IPeer a = await Peers.ConnectAsync(host, compatibility, "room1");
        await using IPeer b = await Peers.ConnectAsync(host, compatibility, "room1");
        await using IPeer other = await Peers.ConnectAsync(host, compatibility, "room2");
        await other.SendAsync("presence", Presence("""{"a":"s"}"""));
        Assert.Equal("""{"a":"s","presences":{}}""", await ReceivePresenceAsync(other));

        await b.SendAsync("presence", Presence("""{"a":"d","presence":{"early":true}}""")); // a is not subscribed yet
        await b.SendAsync("presence", Presence("""{"a":"s"}""")); // its answer says b's state is in (connections are not ordered among themselves)
        Assert.Equal($$$$"""{"a":"s","presences":{"{{{{b.Id}}}}":{"early":true}}}""", await ReceivePresenceAsync(b));
        await a.SendAsync("presence", Presence("""{"a":"s"}"""));
        Assert.Equal($$$$"""{"a":"s","presences":{"{{{{b.Id}}}}":{"early":true}}}""", await ReceivePresenceAsync(a));

        b.Abort(); // no close handshake: the server notices the transport is gone
        Assert.Equal($$$$"""{"a":"r","presencesIds":["{{{{b.Id}}}}"]}""", await ReceivePresenceAsync(a));

        // Rooms isolate: room2's subscriber heard nothing of room1 (its next message is its own second snapshot).
        await other.SendAsync("presence", Presence("""{"a":"s"}"""));
        Assert.Equal("""{"a":"s","presences":{}}""", await ReceivePresenceAsync(other));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_state_over_the_size_limit_and_a_state_beyond_the_rooms_limit_are_refused_with_a_clear_error(bool compatibility)
    {
        await using KestrelRealtimeHost host = await StartAsync(o =>
        {
            o.MaxStateBytes = 64;
            o.MaxStatesPerRoom = 2;
        });
        await using IPeer a = await Peers.ConnectAsync(host, compatibility, "room1");
        await using IPeer b = await Peers.ConnectAsync(host, compatibility, "room1");
        await using IPeer c = await Peers.ConnectAsync(host, compatibility, "room1");

        await a.SendAsync("presence", Presence($$$$"""{"a":"d","presence":"{{{{new string('x', 70)}}}}"}"""));
        Assert.Equal("Presence state refused: 72 bytes, more than the limit of 64 (PresenceOptions.MaxStateBytes).", await a.ReceiveErrorAsync());

        // c watches, so each change is known to be applied before the next connection's (connections are not ordered among themselves).
        await c.SendAsync("presence", Presence("""{"a":"s"}"""));
        Assert.Equal("""{"a":"s","presences":{}}""", await ReceivePresenceAsync(c));
        await a.SendAsync("presence", Presence("""{"a":"d","presence":1}"""));
        Assert.Equal($$$$"""{"a":"a","presences":{"{{{{a.Id}}}}":1}}""", await ReceivePresenceAsync(c));
        await b.SendAsync("presence", Presence("""{"a":"d","presence":2}"""));
        Assert.Equal($$$$"""{"a":"a","presences":{"{{{{b.Id}}}}":2}}""", await ReceivePresenceAsync(c));
        await b.SendAsync("presence", Presence("""{"a":"d","presence":3}""")); // a replacement is no new entry
        Assert.Equal($$$$"""{"a":"d","presences":{"{{{{b.Id}}}}":3}}""", await ReceivePresenceAsync(c));
        await c.SendAsync("presence", Presence("""{"a":"d","presence":4}"""));
        Assert.Equal("Presence state refused: the room holds 2 states, the limit (PresenceOptions.MaxStatesPerRoom).", await c.ReceiveErrorAsync());

        await c.SendAsync("presence", Presence("""{"a":"s"}"""));
        Assert.Equal($$$$"""{"a":"s","presences":{"{{{{a.Id}}}}":1,"{{{{b.Id}}}}":3}}""", await ReceivePresenceAsync(c), IgnoreKeyOrder.Instance);

        // A field update that would grow a state past the limit is refused too, and the state stays as it was.
        await b.SendAsync("presence", Presence("""{"a":"d","presence":{"k":1}}"""));
        await b.SendAsync("presence", Presence($$$$"""{"a":"df","fieldUpdate":{"k":"big","v":"{{{{new string('y', 60)}}}}"}}"""));
        Assert.StartsWith("Presence state refused: ", await b.ReceiveErrorAsync());
    }

    [Fact]
    public async Task A_client_back_with_its_id_before_its_old_transport_went_keeps_its_state_when_the_old_connection_leaves()
    {
        string id = SocketIoTestClient.NewId();
        var oldLeft = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(configureServer: server => server.UsePresence().On(ServerEvents.LeaveRoom, ctx =>
        {
            if (ctx.Connection?.Id == id)
            {
                oldLeft.TrySetResult(); // after the features' leave
            }
        }));
        await using IPeer watcher = await Peers.ConnectAsync(host, compatibility: true, "room1");
        await watcher.SendAsync("presence", Presence("""{"a":"s"}"""));
        Assert.Equal("""{"a":"s","presences":{}}""", await ReceivePresenceAsync(watcher));

        // The original client keeps its id across reconnections: the newer connection replaces the old one, which then leaves.
        await using SocketIoTestClient old = await SocketIoTestClient.ConnectAcceptedAsync(host.CollaborationUrl, id, "room1");
        await old.SendMessageAsync("presence", Presence("""{"a":"d","presence":{"v":1}}"""));
        Assert.Equal($$$$"""{"a":"a","presences":{"{{{{id}}}}":{"v":1}}}""", await ReceivePresenceAsync(watcher));
        await using SocketIoTestClient newer = await SocketIoTestClient.ConnectAcceptedAsync(host.CollaborationUrl, id, "room1");
        await newer.SendMessageAsync("presence", Presence("""{"a":"d","presence":{"v":2}}"""));
        Assert.Equal($$$$"""{"a":"d","presences":{"{{{{id}}}}":{"v":2}}}""", await ReceivePresenceAsync(watcher));
        await host.Logs.WaitForAsync("ConnectionReplaced");
        Assert.Equal(4000, await old.ReceiveCloseAsync());
        await oldLeft.Task.DefaultTimeout("the old connection to leave its room");

        // No removal reached the watcher, and the state is the newer connection's.
        await watcher.SendAsync("presence", Presence("""{"a":"s"}"""));
        Assert.Equal($$$$"""{"a":"s","presences":{"{{{{id}}}}":{"v":2}}}""", await ReceivePresenceAsync(watcher));
    }

    private static Task<KestrelRealtimeHost> StartAsync(Action<PresenceOptions>? configure = null)
        => KestrelRealtimeHost.StartAsync(configureServer: server => server.UsePresence(configure).On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message)));

    /// <summary>A presence message's data: the JSON text of the string that holds <paramref name="json"/>.</summary>
    private static string Presence(string json) => JsonSerializer.Serialize(json);

    /// <summary>The next presence message's inner JSON (the string its data holds).</summary>
    private static async Task<string> ReceivePresenceAsync(IPeer peer)
    {
        (string? type, string data) = await peer.ReceiveAsync();
        Assert.Equal("presence", type);
        return JsonDocument.Parse(data).RootElement.GetString()!;
    }

    private static JsonElement ParsePresence(string json) => JsonDocument.Parse(json).RootElement;

    /// <summary>Compares two JSON objects' texts whatever the order of their keys (one level deep, values compared as text).</summary>
    private sealed class IgnoreKeyOrder : IEqualityComparer<string>
    {
        public static readonly IgnoreKeyOrder Instance = new();

        public bool Equals(string? x, string? y) => Normalize(x) == Normalize(y);

        public int GetHashCode(string obj) => Normalize(obj).GetHashCode(StringComparison.Ordinal);

        private static string Normalize(string? json)
        {
            static string Of(JsonElement e) => e.ValueKind == JsonValueKind.Object
                ? "{" + string.Join(",", e.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => p.Name + ":" + Of(p.Value))) + "}"
                : e.GetRawText();
            return json is null ? "" : Of(JsonDocument.Parse(json).RootElement);
        }
    }
}
