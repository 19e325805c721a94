namespace Realtime;

/// <summary>Rules for room ids (protocol.md §3): 1–128 UTF-16 code units, no control characters, no lone surrogates.</summary>
public static class RoomId
{
    /// <summary>The longest room id, in UTF-16 code units: 128.</summary>
    public const int MaxLength = 128;

    /// <summary>Returns whether <paramref name="roomId"/> is a valid room id.</summary>
    /// <param name="roomId">The candidate, already percent-decoded.</param>
    /// <returns><see langword="true"/> when it is 1–128 code units with no control characters and no lone surrogates.</returns>
    public static bool IsValid(string? roomId)
    {
        if (string.IsNullOrEmpty(roomId) || roomId.Length > MaxLength)
        {
            return false;
        }

        for (int i = 0; i < roomId.Length; i++)
        {
            char c = roomId[i];
            if (char.IsControl(c))
            {
                return false;
            }

            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= roomId.Length || !char.IsLowSurrogate(roomId[i + 1]))
                {
                    return false;
                }

                i++;
            }
            else if (char.IsLowSurrogate(c))
            {
                return false;
            }
        }

        return true;
    }
}
