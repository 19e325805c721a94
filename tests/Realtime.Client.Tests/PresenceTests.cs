using System.Text.Json;
using Realtime.Server;
using Realtime.Testing;
using Realtime.TestSupport;

namespace Realtime.Client.Tests;

/// <summary>The C# presence against the server's presence on real Kestrel at 127.0.0.1: the original's behaviour, then the reconnect opt-in.</summary>
public abstract class PresenceTests(HostMode mode) : IAsyncLifetime
{
    private KestrelRealtimeHost _host = null!;

    /// <summary>Against <c>MapRealtime</c>.</summary>
    public sealed class OnEndpoint() : PresenceTests(HostMode.Endpoint);

    /// <summary>Against the dense listener (<c>ListenOptions.UseRealtime</c>).</summary>
    public sealed class OnDenseListener() : PresenceTests(HostMode.Dense);

    public async Task InitializeAsync() => _host = await KestrelRealtimeHost.StartAsync(mode, configureServer: server => server.UsePresence());

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Subscribe_files_the_rooms_states_its_own_as_LocalState()
    {
        await using Connection a = await ConnectAsync();
        await using Connection b = await ConnectAsync();
        using var presenceA = new Presence(a);
        using var presenceB = new Presence(b);

        // States are kept without subscribing; a subscribe answers with all of them, this connection's own included.
        await presenceA.SubmitLocalStateAsync(new { User = "a", Sel = new[] { 1, 1 } });
        await presenceA.SubscribeAsync().DefaultTimeout(); // answered after A's state is stored: one connection's requests are handled in order
        await presenceB.SubmitLocalStateAsync(new { user = "b" });
        await presenceB.SubscribeAsync().DefaultTimeout();
        Assert.Equal(["""{"user":"a","sel":[1,1]}"""], StatesOf(presenceB, a.Id!));
        Assert.Equal("""{"user":"b"}""", PresenceRecorder.Compact(presenceB.LocalState!.Value));
        Assert.DoesNotContain(b.Id!, presenceB.OtherStates.Keys);

        // A second presence on A's connection has submitted nothing: the answer tells it the connection's state.
        using var secondOnA = new Presence(a);
        Assert.Null(secondOnA.LocalState);
        await secondOnA.SubscribeAsync().DefaultTimeout();
        Assert.Equal("""{"user":"a","sel":[1,1]}""", PresenceRecorder.Compact(secondOnA.LocalState!.Value));
        Assert.Equal([b.Id!], secondOnA.OtherStates.Keys);
        Assert.Equal("""{"user":"b"}""", PresenceRecorder.Compact(secondOnA.OtherStates[b.Id!]));
    }

    [Fact]
    public async Task Add_update_field_update_and_remove_reach_the_others_as_events_and_never_the_sender()
    {
        await using Connection a = await ConnectAsync();
        await using Connection b = await ConnectAsync();
        var messagesOnA = new ConnectionRecorder(a);
        using var presenceA = new Presence(a);
        using var presenceB = new Presence(b);
        var onA = new PresenceRecorder(presenceA);
        var onB = new PresenceRecorder(presenceB);
        await presenceA.SubscribeAsync().DefaultTimeout();
        await presenceB.SubscribeAsync().DefaultTimeout();
        string idB = b.Id!;

        await presenceB.SubmitLocalStateAsync(new { user = "b", sel = new[] { 2, 2 } });
        await onA.WaitForAsync($$"""add:{{idB}}={"user":"b","sel":[2,2]}""");
        await presenceB.SubmitLocalStateAsync(new { user = "b", sel = new[] { 3, 3 } });
        await onA.WaitForAsync($$"""update:{{idB}}={"user":"b","sel":[3,3]}""");
        await presenceB.SubmitLocalStateFieldAsync("sel", new[] { 4, 4 });
        await presenceB.SubmitLocalStateFieldAsync("typing", true);
        await onA.WaitForAsync($$"""update:{{idB}}={"user":"b","sel":[4,4],"typing":true}""");
        Assert.Equal("""{"user":"b","sel":[4,4],"typing":true}""", PresenceRecorder.Compact(presenceB.LocalState!.Value));
        Assert.Equal(["""{"user":"b","sel":[4,4],"typing":true}"""], StatesOf(presenceA, idB));

        await presenceB.RemoveLocalStateAsync();
        await onA.WaitForAsync($"remove:{idB}");
        Assert.Empty(presenceA.OtherStates);
        Assert.Null(presenceB.LocalState);

        // After a remove, the next state is an add again.
        await presenceB.SubmitLocalStateAsync(new { user = "b", back = true });
        await onA.WaitForAsync($$"""add:{{idB}}={"user":"b","back":true}""");
        Assert.Equal(
            [
                $$"""add:{{idB}}={"user":"b","sel":[2,2]}""",
                $$"""update:{{idB}}={"user":"b","sel":[3,3]}""",
                $$"""update:{{idB}}={"user":"b","sel":[4,4]}""",
                $$"""update:{{idB}}={"user":"b","sel":[4,4],"typing":true}""",
                $"remove:{idB}",
                $$"""add:{{idB}}={"user":"b","back":true}""",
            ],
            onA.Events);

        // The connection's own message handlers still see presence messages (the subscribe answer and six broadcasts).
        await messagesOnA.WaitForCountAsync("message:presence", 7);

        // B hears about others, never about itself: A's add is the first event B gets.
        await presenceA.SubmitLocalStateAsync(new { user = "a" });
        await onB.WaitForAsync($$"""add:{{a.Id}}={"user":"a"}""");
        Assert.Equal([$$"""add:{{a.Id}}={"user":"a"}"""], onB.Events);
    }

    [Fact]
    public async Task A_client_hears_nothing_before_it_subscribes_and_the_answer_has_the_latest_states()
    {
        await using Connection watcher = await ConnectAsync();
        await using Connection late = await ConnectAsync();
        await using Connection b = await ConnectAsync();
        using var presenceWatcher = new Presence(watcher);
        using var presenceLate = new Presence(late);
        using var presenceB = new Presence(b);
        var onWatcher = new PresenceRecorder(presenceWatcher);
        var onLate = new PresenceRecorder(presenceLate);
        await presenceWatcher.SubscribeAsync().DefaultTimeout();

        await presenceB.SubmitLocalStateAsync(new { n = 1 });
        await presenceB.SubmitLocalStateFieldAsync("n", 2);
        await presenceB.RemoveLocalStateAsync();
        await presenceB.SubmitLocalStateAsync(new { n = 3 });
        await onWatcher.WaitForAsync($$"""add:{{b.Id}}={"n":3}""");

        // The server has handled all of B's requests; an answer to a later subscribe comes after anything sent to `late` before it.
        await presenceLate.SubscribeAsync().DefaultTimeout();
        Assert.Empty(onLate.Events);
        Assert.Equal(["""{"n":3}"""], StatesOf(presenceLate, b.Id!));
    }

    [Fact]
    public async Task A_client_that_closes_its_connection_is_removed_on_the_others()
    {
        await using Connection a = await ConnectAsync();
        Connection b = await ConnectAsync();
        using var presenceA = new Presence(a);
        using var presenceB = new Presence(b);
        var onA = new PresenceRecorder(presenceA);
        await presenceA.SubscribeAsync().DefaultTimeout();
        await presenceB.SubmitLocalStateAsync(new { user = "b" });
        string idB = b.Id!;
        await onA.WaitForAsync($$"""add:{{idB}}={"user":"b"}""");

        await b.DisposeAsync();
        await onA.WaitForAsync($"remove:{idB}");
        Assert.Empty(presenceA.OtherStates);
    }

    [Fact]
    public async Task RestoreAfterReconnect_subscribes_and_submits_again_and_raises_what_changed_during_the_drop()
    {
        await using FaultProxy proxy = await FaultProxy.StartAsync(new Uri(_host.Url));
        await using Connection a = await ConnectAsync();
        await using Connection c = await ConnectAsync();
        bool away = false; // while set, B's reconnection attempts fail at once
        await using Connection b = await ConnectAsync(proxy.Url, new ConnectOptions
        {
            AuthProvider = _ => Volatile.Read(ref away) ? throw new InvalidOperationException("away") : ValueTask.FromResult<object?>(null),
        });
        var lifecycleB = new ConnectionRecorder(b);
        using var presenceA = new Presence(a);
        using var presenceC = new Presence(c);
        using var presenceB = new Presence(b, new PresenceClientOptions { RestoreAfterReconnect = true });
        var onA = new PresenceRecorder(presenceA);
        var onB = new PresenceRecorder(presenceB);
        await presenceA.SubscribeAsync().DefaultTimeout();
        await presenceC.SubmitLocalStateAsync(new { user = "c" });
        await onA.WaitForAsync($$"""add:{{c.Id}}={"user":"c"}""");
        await presenceB.SubmitLocalStateAsync(new { user = "b" });
        await presenceB.SubscribeAsync().DefaultTimeout();
        Assert.Equal(["""{"user":"c"}"""], StatesOf(presenceB, c.Id!));
        string firstIdB = b.Id!;
        await onA.WaitForAsync($$"""add:{{firstIdB}}={"user":"b"}""");

        // B drops, and cannot come back until it is no longer away: C leaves the presence meanwhile.
        Volatile.Write(ref away, true);
        proxy.ResetConnections();
        await onA.WaitForAsync($"remove:{firstIdB}");
        await lifecycleB.WaitForEventAsync("reconnectAttempt:1");
        await presenceC.RemoveLocalStateAsync();
        await onA.WaitForAsync($"remove:{c.Id}");
        Assert.Empty(onB.Events);

        Volatile.Write(ref away, false);
        string secondIdB = await NextIdAsync(lifecycleB, firstIdB);

        // The others see B again under its new id; B learns that C left while it was away.
        await onA.WaitForAsync($$"""add:{{secondIdB}}={"user":"b"}""");
        await onB.WaitForAsync($"remove:{c.Id}");
        Assert.Empty(presenceB.OtherStates);
        Assert.Equal("""{"user":"b"}""", PresenceRecorder.Compact(presenceB.LocalState!.Value));

        // B is subscribed again: C's next state reaches it.
        await presenceC.SubmitLocalStateAsync(new { user = "c", again = true });
        await onB.WaitForAsync($$"""add:{{c.Id}}={"user":"c","again":true}""");
        Assert.Equal([$"remove:{c.Id}", $$"""add:{{c.Id}}={"user":"c","again":true}"""], onB.Events);
        Assert.Equal([$$"""add:{{firstIdB}}={"user":"b"}""", $"remove:{firstIdB}", $$"""add:{{secondIdB}}={"user":"b"}"""], onA.Events.Where(e => e.Contains(":" + firstIdB, StringComparison.Ordinal) || e.Contains(":" + secondIdB, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Without_RestoreAfterReconnect_a_reconnected_client_is_neither_subscribed_nor_present_as_in_the_original()
    {
        await using FaultProxy proxy = await FaultProxy.StartAsync(new Uri(_host.Url));
        await using Connection a = await ConnectAsync();
        await using Connection c = await ConnectAsync();
        await using Connection b = await ConnectAsync(proxy.Url);
        var lifecycleB = new ConnectionRecorder(b);
        using var presenceA = new Presence(a);
        using var presenceB = new Presence(b);
        using var presenceC = new Presence(c);
        var onA = new PresenceRecorder(presenceA);
        var onB = new PresenceRecorder(presenceB);
        await presenceA.SubscribeAsync().DefaultTimeout();
        await presenceB.SubscribeAsync().DefaultTimeout();
        await presenceB.SubmitLocalStateAsync(new { user = "b" });
        string firstIdB = b.Id!;
        await onA.WaitForAsync($$"""add:{{firstIdB}}={"user":"b"}""");

        proxy.ResetConnections();
        await onA.WaitForAsync($"remove:{firstIdB}");
        string secondIdB = await NextIdAsync(lifecycleB, firstIdB);

        // C's state goes to subscribers only: A gets it, B (no longer subscribed) does not.
        await presenceC.SubmitLocalStateAsync(new { user = "c" });
        await onA.WaitForAsync($$"""add:{{c.Id}}={"user":"c"}""");

        // A subscribe now is answered after anything sent to B before it: B got nothing, and the server has no state for B.
        await presenceB.SubscribeAsync().DefaultTimeout();
        Assert.Empty(onB.Events);
        Assert.Equal([c.Id!], presenceB.OtherStates.Keys);
        Assert.Equal([$$"""add:{{firstIdB}}={"user":"b"}""", $"remove:{firstIdB}", $$"""add:{{c.Id}}={"user":"c"}"""], onA.Events);
        Assert.DoesNotContain(secondIdB, presenceA.OtherStates.Keys);

        // Like the original, the presence keeps what it submitted; submitting it again makes B present under its new id.
        Assert.Equal("""{"user":"b"}""", PresenceRecorder.Compact(presenceB.LocalState!.Value));
        await presenceB.SubmitLocalStateAsync(presenceB.LocalState!.Value);
        await onA.WaitForAsync($$"""add:{{secondIdB}}={"user":"b"}""");
    }

    [Fact]
    public async Task A_subscribe_waiting_when_the_connection_drops_fails_instead_of_hanging()
    {
        await using FaultProxy proxy = await FaultProxy.StartAsync(new Uri(_host.Url));
        await using Connection b = await ConnectAsync(proxy.Url);
        using var presence = new Presence(b);

        proxy.Blackhole(FaultDirection.ServerToClient); // the answer never arrives
        Task subscribe = presence.SubscribeAsync();
        proxy.ResetConnections();
        RealtimeException error = await Assert.ThrowsAsync<RealtimeException>(() => subscribe.DefaultTimeout());
        Assert.Contains("subscribe", error.Message, StringComparison.Ordinal);
    }

    private static string[] StatesOf(Presence presence, string id)
        => presence.OtherStates.TryGetValue(id, out JsonElement state) ? [PresenceRecorder.Compact(state)] : [];

    /// <summary>The id of the connection after the one with <paramref name="previousId"/>, once its Connect event has run.</summary>
    private static async Task<string> NextIdAsync(ConnectionRecorder recorder, string previousId)
    {
        await recorder.WaitForEventAsync("connect");
        await recorder.WaitForAsync(_ => recorder.ConnectIds.Any(id => id is not null && id != previousId), "a connection with a new id");
        return recorder.ConnectIds.Last(id => id is not null && id != previousId)!;
    }

    private Task<Connection> ConnectAsync(Uri? url = null, ConnectOptions? options = null)
        => new Client((url ?? new Uri(_host.Url)).ToString(), new ClientOptions
        {
            ReconnectionDelay = TimeSpan.FromMilliseconds(20),
            ReconnectionDelayMax = TimeSpan.FromMilliseconds(50),
        }).ConnectAsync("room1", options).DefaultTimeout();
}
