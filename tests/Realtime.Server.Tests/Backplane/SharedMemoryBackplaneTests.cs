using Realtime.TestSupport;

namespace Realtime.Server.Tests.Backplane;

/// <summary>
/// The specification on two nodes, over a backplane built here from the public seam alone (as an add-on package would build
/// one): two Kestrel apps in this process share rooms through an in-memory fabric whose calls complete asynchronously. It shows
/// that the seam suffices for a cluster, and that the specification's cross-node tests can fail.
/// </summary>
public class SharedMemoryBackplaneTests : RealtimeBackplaneSpecification
{
    private readonly Fabric _fabric = new();

    protected override int NodeCount => 2;

    protected override void AddBackplane(IServiceCollection services, int node)
        => services.AddSingleton<RealtimeBackplane>(new FabricBackplane(_fabric));

    /// <summary>What the nodes share: who subscribes to which room, and the cluster's membership. One lock orders every room's broadcasts.</summary>
    private sealed class Fabric
    {
        public Lock Gate { get; } = new();

        public List<FabricBackplane> Nodes { get; } = [];

        public Dictionary<string, HashSet<string>> Members { get; } = new(StringComparer.Ordinal);

        /// <summary>Features' member states: (room, feature) → connection → state. A room's go with its last member.</summary>
        public Dictionary<(string Room, string Feature), Dictionary<string, ReadOnlyMemory<byte>>> States { get; } = [];
    }

    private sealed class FabricBackplane : RealtimeBackplane
    {
        private readonly Fabric _fabric;
        private readonly HashSet<string> _subscribed = new(StringComparer.Ordinal);

        public FabricBackplane(Fabric fabric)
        {
            _fabric = fabric;
            lock (fabric.Gate)
            {
                fabric.Nodes.Add(this);
            }
        }

        public override async ValueTask SubscribeAsync(string roomId, CancellationToken cancellationToken)
        {
            await Task.Yield(); // as a network round trip would: the server must await it
            lock (_fabric.Gate)
            {
                _subscribed.Add(roomId);
            }
        }

        public override async ValueTask UnsubscribeAsync(string roomId, CancellationToken cancellationToken)
        {
            await Task.Yield();
            lock (_fabric.Gate)
            {
                _subscribed.Remove(roomId);
            }
        }

        public override async ValueTask PublishAsync(RoomBroadcast broadcast, CancellationToken cancellationToken)
        {
            await Task.Yield();
            lock (_fabric.Gate)
            {
                foreach (FabricBackplane node in _fabric.Nodes)
                {
                    if (node._subscribed.Contains(broadcast.RoomId))
                    {
                        node.DeliverLocally(broadcast);
                    }
                }
            }
        }

        public override async ValueTask<bool> SendAsync(string connectionId, Message message, CancellationToken cancellationToken)
        {
            await Task.Yield();
            return Nodes().Any(node => node.SendLocally(connectionId, message));
        }

        public override async ValueTask<bool> CloseAsync(string connectionId, CancellationToken cancellationToken)
        {
            await Task.Yield();
            return Nodes().Any(node => node.CloseLocally(connectionId));
        }

        public override async ValueTask AddMemberAsync(string roomId, string connectionId, CancellationToken cancellationToken)
        {
            await Task.Yield();
            lock (_fabric.Gate)
            {
                if (!_fabric.Members.TryGetValue(roomId, out HashSet<string>? members))
                {
                    _fabric.Members[roomId] = members = new HashSet<string>(StringComparer.Ordinal);
                }

                members.Add(connectionId);
            }
        }

        public override ValueTask RemoveMemberAsync(string roomId, string connectionId, CancellationToken cancellationToken)
        {
            lock (_fabric.Gate)
            {
                if (_fabric.Members.TryGetValue(roomId, out HashSet<string>? members) && members.Remove(connectionId) && members.Count == 0)
                {
                    _fabric.Members.Remove(roomId);
                    foreach ((string Room, string Feature) key in _fabric.States.Keys.Where(k => k.Room == roomId).ToArray())
                    {
                        _fabric.States.Remove(key);
                    }
                }
            }

            return ValueTask.CompletedTask;
        }

        public override ValueTask<IReadOnlyCollection<string>> GetRoomsAsync(CancellationToken cancellationToken)
        {
            lock (_fabric.Gate)
            {
                return ValueTask.FromResult<IReadOnlyCollection<string>>([.. _fabric.Members.Keys]);
            }
        }

        public override ValueTask<IReadOnlyCollection<string>> GetConnectionIdsAsync(string roomId, CancellationToken cancellationToken)
        {
            lock (_fabric.Gate)
            {
                return ValueTask.FromResult<IReadOnlyCollection<string>>(_fabric.Members.TryGetValue(roomId, out HashSet<string>? members) ? [.. members] : []);
            }
        }

        public override ValueTask<int> GetConnectionCountAsync(CancellationToken cancellationToken)
            => ValueTask.FromResult(Nodes().Sum(node => node.LocalConnectionCount));

        public override async ValueTask<MemberStateChange> SetMemberStateAsync(string roomId, string feature, string connectionId, ReadOnlyMemory<byte> state,
                                                                               int maxEntries, CancellationToken cancellationToken)
        {
            await Task.Yield();
            lock (_fabric.Gate)
            {
                if (!_fabric.States.TryGetValue((roomId, feature), out Dictionary<string, ReadOnlyMemory<byte>>? states))
                {
                    _fabric.States[(roomId, feature)] = states = new(StringComparer.Ordinal);
                }

                bool existed = states.ContainsKey(connectionId);
                if (!existed && states.Count >= maxEntries)
                {
                    return MemberStateChange.Refused;
                }

                states[connectionId] = state.ToArray();
                return existed ? MemberStateChange.Replaced : MemberStateChange.Added;
            }
        }

        public override async ValueTask<bool> RemoveMemberStateAsync(string roomId, string feature, string connectionId, CancellationToken cancellationToken)
        {
            await Task.Yield();
            lock (_fabric.Gate)
            {
                return _fabric.States.TryGetValue((roomId, feature), out Dictionary<string, ReadOnlyMemory<byte>>? states) && states.Remove(connectionId);
            }
        }

        public override async ValueTask<IReadOnlyDictionary<string, ReadOnlyMemory<byte>>> GetMemberStatesAsync(string roomId, string feature, CancellationToken cancellationToken)
        {
            await Task.Yield();
            lock (_fabric.Gate)
            {
                return _fabric.States.TryGetValue((roomId, feature), out Dictionary<string, ReadOnlyMemory<byte>>? states)
                    ? new Dictionary<string, ReadOnlyMemory<byte>>(states, StringComparer.Ordinal)
                    : new Dictionary<string, ReadOnlyMemory<byte>>();
            }
        }

        private FabricBackplane[] Nodes()
        {
            lock (_fabric.Gate)
            {
                return [.. _fabric.Nodes];
            }
        }
    }
}
