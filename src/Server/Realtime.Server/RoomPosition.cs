using System.Globalization;

namespace Realtime.Server;

/// <summary>
/// A room broadcast's place in the room's one order (docs/recovery.md): the room's <see cref="Epoch"/> (the life of its sequence: a
/// sequence that starts again has a new one) and the broadcast's <see cref="Sequence"/> number in it, from 1. Sequence 0 is the place
/// before the epoch's first broadcast. On the wire it is the opaque string <c>&lt;epoch&gt;:&lt;sequence&gt;</c>.
/// </summary>
public readonly record struct RoomPosition
{
    /// <summary>The longest epoch: 64 characters.</summary>
    public const int MaxEpochLength = 64;

    /// <summary>Creates a position.</summary>
    /// <param name="epoch">The epoch: 1–64 characters, none of them <c>:</c> or a control character; <c>""</c> only with sequence 0 (a room that never broadcast).</param>
    /// <param name="sequence">The number in the epoch, 0 or more.</param>
    /// <exception cref="ArgumentException">The epoch or sequence is out of range.</exception>
    public RoomPosition(string epoch, long sequence)
    {
        ArgumentNullException.ThrowIfNull(epoch);
        if (!IsValidEpoch(epoch) || (epoch.Length == 0 && sequence != 0))
        {
            throw new ArgumentException("An epoch is 1-64 characters, none of them ':' or a control character (\"\" only at sequence 0).", nameof(epoch));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        Epoch = epoch;
        Sequence = sequence;
    }

    /// <summary>The room's epoch.</summary>
    public string Epoch { get; }

    /// <summary>The broadcast's number in the epoch.</summary>
    public long Sequence { get; }

    /// <summary>The position of the next broadcast in the same epoch.</summary>
    public RoomPosition Next => new(Epoch, Sequence + 1);

    /// <summary>The wire form, <c>&lt;epoch&gt;:&lt;sequence&gt;</c>.</summary>
    /// <returns>The position as clients see it.</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Epoch}:{Sequence}");

    /// <summary>Reads the wire form.</summary>
    /// <param name="text">What a client sent.</param>
    /// <param name="position">The position read.</param>
    /// <returns>Whether <paramref name="text"/> is a position.</returns>
    public static bool TryParse(string? text, out RoomPosition position)
    {
        position = default;
        int colon = text?.LastIndexOf(':') ?? -1;
        if (colon < 0)
        {
            return false;
        }

        string epoch = text![..colon];
        ReadOnlySpan<char> number = text.AsSpan(colon + 1);
        if (!IsValidEpoch(epoch) || number.Length is 0 or > 19 || number[0] is '+' or '-'
            || !long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out long sequence) || (epoch.Length == 0 && sequence != 0))
        {
            return false;
        }

        position = new RoomPosition(epoch, sequence);
        return true;
    }

    private static bool IsValidEpoch(string epoch)
    {
        if (epoch.Length > MaxEpochLength)
        {
            return false;
        }

        foreach (char c in epoch)
        {
            if (c == ':' || char.IsControl(c))
            {
                return false;
            }
        }

        return true;
    }
}
