using Realtime.TestSupport;

namespace Realtime.Client.Tests;

/// <summary>What a presence does on its own, before any server answers: nothing listens on port 1, so requests stay buffered.</summary>
public sealed class PresenceLocalStateTests : IAsyncDisposable
{
    private readonly Connection _connection = new Client("ws://127.0.0.1:1/realtime").Connect("room1");

    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    [Fact]
    public async Task LocalState_follows_submits_field_updates_and_removal_at_once_also_offline()
    {
        using var presence = new Presence(_connection);
        Assert.Null(presence.LocalState);
        Assert.Empty(presence.OtherStates);

        await presence.SubmitLocalStateAsync(new { UserName = "ann", Cursor = 1 });
        Assert.Equal("""{"userName":"ann","cursor":1}""", presence.LocalState!.Value.GetRawText());

        // The key is sent as given: the serializer's naming policy applies to values, not to it.
        await presence.SubmitLocalStateFieldAsync("cursor", 5);
        await presence.SubmitLocalStateFieldAsync("Selection", new { From = 1, To = 3 });
        Assert.Equal("""{"userName":"ann","cursor":5,"Selection":{"from":1,"to":3}}""", presence.LocalState!.Value.GetRawText());

        await presence.RemoveLocalStateAsync();
        Assert.Null(presence.LocalState);
    }

    [Fact]
    public async Task A_field_needs_an_object_state_and_a_key_the_server_accepts()
    {
        using var presence = new Presence(_connection);
        await Assert.ThrowsAsync<InvalidOperationException>(() => presence.SubmitLocalStateFieldAsync("cursor", 1));
        await presence.SubmitLocalStateAsync(new[] { 1, 2 });
        await Assert.ThrowsAsync<InvalidOperationException>(() => presence.SubmitLocalStateFieldAsync("cursor", 1));
        Assert.Equal("[1,2]", presence.LocalState!.Value.GetRawText());

        await presence.SubmitLocalStateAsync(new { cursor = 0 });
        foreach (string reserved in (string[])["__proto__", "constructor", "prototype"])
        {
            await Assert.ThrowsAsync<ArgumentException>(() => presence.SubmitLocalStateFieldAsync(reserved, 1));
        }

        Assert.Equal("""{"cursor":0}""", presence.LocalState!.Value.GetRawText());
    }

    [Fact]
    public async Task A_cancelled_submit_changes_nothing()
    {
        using var presence = new Presence(_connection);
        await presence.SubmitLocalStateAsync(new { n = 1 });
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => presence.SubmitLocalStateAsync(new { n = 2 }, cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => presence.RemoveLocalStateAsync(cancelled.Token));
        Assert.Equal("""{"n":1}""", presence.LocalState!.Value.GetRawText());
    }

    [Fact]
    public async Task Dispose_fails_a_waiting_subscribe_and_later_calls()
    {
        var presence = new Presence(_connection);
        Task subscribe = presence.SubscribeAsync();
        Assert.False(subscribe.IsCompleted);

        presence.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => subscribe.DefaultTimeout());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => presence.SubscribeAsync());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => presence.SubmitLocalStateAsync(1));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => presence.RemoveLocalStateAsync());
        presence.Dispose(); // twice is fine
    }

    [Fact]
    public async Task Requests_after_the_connection_is_closed_throw()
    {
        using var presence = new Presence(_connection);
        await _connection.CloseAsync().DefaultTimeout();
        await Assert.ThrowsAsync<InvalidOperationException>(() => presence.SubmitLocalStateAsync(1));
        await Assert.ThrowsAsync<InvalidOperationException>(() => presence.SubscribeAsync());
        Assert.Null(presence.LocalState);
    }

    [Fact]
    public void A_presence_needs_a_connection() => Assert.Throws<ArgumentNullException>(() => new Presence(null!));

    [Fact]
    public void Events_carry_the_originals_names()
    {
        Assert.Equal(["add", "update", "remove"], [PresenceEvents.Add.Name, PresenceEvents.Update.Name, PresenceEvents.Remove.Name]);
        Assert.False(new PresenceClientOptions().RestoreAfterReconnect);
    }
}
