namespace Realtime.Server.Internal;

/// <summary>The default backplane: one node, so the cluster is this node and every call is answered from its own room index.</summary>
internal sealed class InMemoryBackplane : RealtimeBackplane
{
    public override ValueTask SubscribeAsync(string roomId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public override ValueTask UnsubscribeAsync(string roomId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public override ValueTask PublishAsync(RoomBroadcast broadcast, CancellationToken cancellationToken)
    {
        DeliverLocally(broadcast);
        return ValueTask.CompletedTask;
    }

    public override ValueTask<bool> SendAsync(string connectionId, Message message, CancellationToken cancellationToken)
        => ValueTask.FromResult(SendLocally(connectionId, message));

    public override ValueTask<bool> CloseAsync(string connectionId, CancellationToken cancellationToken)
        => ValueTask.FromResult(CloseLocally(connectionId));

    public override ValueTask AddMemberAsync(string roomId, string connectionId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public override ValueTask RemoveMemberAsync(string roomId, string connectionId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public override ValueTask<IReadOnlyCollection<string>> GetRoomsAsync(CancellationToken cancellationToken)
        => ValueTask.FromResult<IReadOnlyCollection<string>>([.. LocalRooms]);

    public override ValueTask<IReadOnlyCollection<string>> GetConnectionIdsAsync(string roomId, CancellationToken cancellationToken)
        => ValueTask.FromResult(GetLocalConnectionIds(roomId));

    public override ValueTask<int> GetRoomConnectionCountAsync(string roomId, CancellationToken cancellationToken)
        => ValueTask.FromResult(GetLocalConnectionIds(roomId).Count);

    public override ValueTask<int> GetConnectionCountAsync(CancellationToken cancellationToken) => ValueTask.FromResult(LocalConnectionCount);

    public override ValueTask<MemberStateChange> SetMemberStateAsync(string roomId, string feature, string connectionId, ReadOnlyMemory<byte> state, int maxEntries,
                                                                     CancellationToken cancellationToken)
        => ValueTask.FromResult(LocalMemberStates.Set(roomId, feature, connectionId, state, maxEntries));

    public override ValueTask<bool> RemoveMemberStateAsync(string roomId, string feature, string connectionId, CancellationToken cancellationToken)
        => ValueTask.FromResult(LocalMemberStates.Remove(roomId, feature, connectionId));

    public override ValueTask<IReadOnlyDictionary<string, ReadOnlyMemory<byte>>> GetMemberStatesAsync(string roomId, string feature, CancellationToken cancellationToken)
        => ValueTask.FromResult(LocalMemberStates.Get(roomId, feature));
}
