namespace Realtime.Server.Internal;

/// <summary>
/// The backplane subscriptions of a <see cref="RoomIndex{TMember}"/>'s rooms: a room's first join here subscribes it and its last leave
/// unsubscribes it, and a room's subscribe starts only after its previous unsubscribe completed, so the two never overtake each other.
/// Every member is called under the index's transitions lock (<see cref="Gate"/>), also taken by an unsubscription that completes.
/// </summary>
internal sealed class RoomSubscriptions(Func<string, ValueTask> subscribe, Func<string, ValueTask> unsubscribe, Action<string, Exception> unsubscribeFailed)
{
    private readonly Dictionary<string, Pending> _unsubscribing = new(StringComparer.Ordinal);

    /// <summary>The index's lock for room creation and removal (rare).</summary>
    public Lock Gate { get; } = new();

    /// <summary>Under <see cref="Gate"/>: subscribes a room being created, after its unsubscription still running, if any.</summary>
    /// <returns>Completes when the room's broadcasts reach this node; with the in-memory backplane, completed already (nothing allocated).</returns>
    public Task Subscribe(string roomId)
    {
        if (_unsubscribing.TryGetValue(roomId, out Pending? previous))
        {
            return SubscribeAfterAsync(previous.Task!, roomId);
        }

        try
        {
            ValueTask subscription = subscribe(roomId);
            return subscription.IsCompletedSuccessfully ? Task.CompletedTask : subscription.AsTask();
        }
        catch (Exception ex)
        {
            return Task.FromException(ex);
        }
    }

    /// <summary>Under <see cref="Gate"/>: starts the unsubscription of a room removed; one still running delays the room's next subscription.</summary>
    public void Unsubscribe(string roomId)
    {
        ValueTask unsubscription;
        try
        {
            unsubscription = unsubscribe(roomId);
        }
        catch (Exception ex)
        {
            unsubscribeFailed(roomId, ex);
            return;
        }

        if (unsubscription.IsCompletedSuccessfully)
        {
            return;
        }

        var pending = new Pending();
        _unsubscribing[roomId] = pending;
        pending.Task = AwaitUnsubscribeAsync(roomId, unsubscription, pending);
    }

    private async Task SubscribeAfterAsync(Task previous, string roomId)
    {
        await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await subscribe(roomId).ConfigureAwait(false);
    }

    private async Task AwaitUnsubscribeAsync(string roomId, ValueTask unsubscription, Pending pending)
    {
        try
        {
            await unsubscription.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            unsubscribeFailed(roomId, ex);
        }
        finally
        {
            lock (Gate)
            {
                if (_unsubscribing.TryGetValue(roomId, out Pending? current) && ReferenceEquals(current, pending))
                {
                    _unsubscribing.Remove(roomId);
                }
            }
        }
    }

    private sealed class Pending
    {
        public Task? Task;
    }
}
