using System.Collections.Frozen;
using Microsoft.Extensions.Logging;
using Realtime.Server.Diagnostics;

namespace Realtime.Server.Internal.Features;

/// <summary>
/// The features of one server: who claims which message type (a frozen map, replaced on registration: a message's lookup takes no
/// lock), the channel names, and the calls into every feature when a connection enters or leaves and when a room ends.
/// </summary>
internal sealed class FeatureSet(ILogger logger)
{
    private readonly Lock _gate = new();
    private RealtimeFeature[] _features = [];
    private FrozenDictionary<string, RealtimeFeature>? _claims; // null while no feature is registered: the message path's one check

    public ChannelRegistry Channels { get; } = new();

    /// <summary>The registered features, in registration order.</summary>
    public IReadOnlyList<RealtimeFeature> All => Volatile.Read(ref _features);

    /// <summary>Canceled when the server stops: the token features' callbacks get.</summary>
    public CancellationToken Stopping { get; set; }

    /// <summary>The feature that claims <paramref name="type"/>, or <see langword="null"/>.</summary>
    public RealtimeFeature? Claimant(string? type)
        => type is not null && Volatile.Read(ref _claims) is { } claims && claims.TryGetValue(type, out RealtimeFeature? feature) ? feature : null;

    /// <exception cref="ArgumentException">A feature of the same name is registered, or one claims a type this one claims.</exception>
    public void Add(RealtimeFeature feature)
    {
        lock (_gate)
        {
            if (Array.Exists(_features, f => f.Name == feature.Name))
            {
                throw new ArgumentException($"A feature named '{feature.Name}' is registered already.", nameof(feature));
            }

            var claims = new Dictionary<string, RealtimeFeature>(_claims ?? FrozenDictionary<string, RealtimeFeature>.Empty, StringComparer.Ordinal);
            foreach (string type in feature.MessageTypes)
            {
                if (!claims.TryAdd(type, feature))
                {
                    throw new ArgumentException($"The message type '{type}' is claimed by the feature '{claims[type].Name}' already.", nameof(feature));
                }
            }

            _features = [.. _features, feature];
            Volatile.Write(ref _claims, claims.ToFrozenDictionary(StringComparer.Ordinal));
        }
    }

    /// <summary>A claimed message, handled by its feature; a failure is logged and answered with the protocol's error.</summary>
    public async ValueTask HandleAsync(RealtimeFeature feature, ServerConnection connection, Message message)
    {
        try
        {
            await feature.MessageAsync(connection, message, Stopping).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            RealtimeLog.FeatureFailed(logger, feature.Name, "message", connection.Id, ex);
            connection.SendError("Internal server error");
        }
    }

    public async ValueTask EnterAsync(ServerConnection connection)
    {
        foreach (RealtimeFeature feature in All)
        {
            try
            {
                await feature.EnterAsync(connection, Stopping).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                RealtimeLog.FeatureFailed(logger, feature.Name, "enter", connection.Id, ex);
            }
        }
    }

    /// <summary>
    /// A connection left its room (on this node, or on a node that died); then, when its room ended here, every feature is told. A
    /// connection replaced by a newer one with its id in its room (a client that keeps its id, reconnecting before the server saw the
    /// old transport go) leaves nothing: what it left is the newer connection's now. Not cancelled when the server stops: a node
    /// that stops gracefully removes what its connections leave behind, for the rest of the cluster (its calls are bounded by the
    /// backplane's own timeouts).
    /// </summary>
    public async ValueTask LeaveAsync(string roomId, string connectionId, ServerConnection? connection, bool roomEnded, bool replaced = false)
    {
        foreach (RealtimeFeature feature in replaced ? [] : All)
        {
            try
            {
                await feature.LeaveAsync(roomId, connectionId, connection, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                RealtimeLog.FeatureFailed(logger, feature.Name, "leave", connectionId, ex);
            }
        }

        if (roomEnded)
        {
            foreach (RealtimeFeature feature in All)
            {
                try
                {
                    feature.RoomEnded(roomId);
                }
                catch (Exception ex)
                {
                    RealtimeLog.FeatureFailed(logger, feature.Name, "room end", null, ex);
                }
            }
        }
    }

    /// <summary>A backplane found connections of a dead node: each leaves, in the background (the backplane's caller does not wait).</summary>
    public void MembersLost(string roomId, IReadOnlyCollection<string> connectionIds)
    {
        if (All.Count == 0 || connectionIds.Count == 0)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            foreach (string connectionId in connectionIds)
            {
                await LeaveAsync(roomId, connectionId, connection: null, roomEnded: false).ConfigureAwait(false);
            }
        });
    }
}
