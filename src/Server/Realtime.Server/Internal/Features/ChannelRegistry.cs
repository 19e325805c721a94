using System.Collections.Concurrent;

namespace Realtime.Server.Internal.Features;

/// <summary>A server's channel names, each a bit of <see cref="ChannelMembership"/>: at most 32.</summary>
internal sealed class ChannelRegistry
{
    public const int MaxChannels = 32;

    private readonly ConcurrentDictionary<string, int> _masks = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>The channel's bit, given on its first use.</summary>
    /// <exception cref="InvalidOperationException">The server has <see cref="MaxChannels"/> channels already.</exception>
    public int GetOrAdd(string channel)
    {
        if (_masks.TryGetValue(channel, out int mask))
        {
            return mask;
        }

        lock (_gate)
        {
            if (_masks.TryGetValue(channel, out mask))
            {
                return mask;
            }

            if (_masks.Count >= MaxChannels)
            {
                throw new InvalidOperationException($"A server has at most {MaxChannels} channels; '{channel}' would be one more.");
            }

            mask = 1 << _masks.Count;
            _masks[channel] = mask;
            return mask;
        }
    }

    /// <summary>The channel's bit; <see langword="false"/> when nobody on this node ever joined it (nobody here is in it).</summary>
    public bool TryGet(string channel, out int mask) => _masks.TryGetValue(channel, out mask);
}
