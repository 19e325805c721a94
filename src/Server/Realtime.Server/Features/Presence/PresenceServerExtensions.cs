namespace Realtime.Server;

/// <summary>Registers presence on a <see cref="RealtimeServer"/>.</summary>
public static class PresenceServerExtensions
{
    /// <summary>
    /// Adds presence: who is in a room and their state (a cursor, a selection, a name), as the original framework's presence feature
    /// does it on the wire (message type <c>presence</c>), on every endpoint and protocol, cluster-wide with a backplane. See docs/presence.md.
    /// </summary>
    /// <param name="server">The server.</param>
    /// <param name="configure">Sets the limits; called on every call, so a second call (another endpoint's configure) may change them.</param>
    /// <returns>The server.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A limit is not positive.</exception>
    /// <example><code>app.MapRealtime("/realtime", server => server.UsePresence());</code></example>
    public static RealtimeServer UsePresence(this RealtimeServer server, Action<PresenceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        PresenceFeature? feature = server.FindFeature<PresenceFeature>();
        if (feature is null)
        {
            feature = new PresenceFeature(new PresenceOptions());
            server.UseFeature(feature);
        }

        configure?.Invoke(feature.Options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(feature.Options.MaxStateBytes, "PresenceOptions.MaxStateBytes");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(feature.Options.MaxStatesPerRoom, "PresenceOptions.MaxStatesPerRoom");
        return server;
    }
}
