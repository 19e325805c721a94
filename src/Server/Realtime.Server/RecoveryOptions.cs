using System.Security.Claims;

namespace Realtime.Server;

/// <summary>
/// Recovery after a brief drop (docs/recovery.md): rooms that keep a bounded history of their broadcasts, so that a client that
/// reconnects with its resume token receives, in order and once, what the room broadcast while it was away. Off by default: a room
/// without history costs nothing more.
/// </summary>
public sealed class RecoveryOptions
{
    /// <summary>Whether rooms keep a history (those <see cref="Rooms"/> names, or every room when it is empty). Default <see langword="false"/>.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// The most broadcasts a room's history keeps; a client that missed more is told <c>recovered: false</c>. Default 1 000
    /// (1–1 000 000).
    /// </summary>
    public int MaxMessages { get; set; } = 1000;

    /// <summary>
    /// How long a broadcast stays in a room's history, and how long after its connection ended a resume token is accepted. Default
    /// 2 minutes (1 second to 1 day).
    /// </summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The rooms that keep a history, as room id patterns in which <c>*</c> matches any run of characters (<c>doc-*</c>); empty, the
    /// default, for every room.
    /// </summary>
    public IList<string> Rooms { get; } = [];

    /// <summary>
    /// The identity a resume token is bound to: a reconnecting client whose connection (after connect middleware ran again) has another
    /// identity is not recovered. Default: the user's <see cref="ClaimTypes.NameIdentifier"/> claim, or its name, or <c>""</c> for an
    /// anonymous user. An application that authenticates in connect middleware (from the <c>hello</c>'s auth payload) returns what it
    /// established there, for example a value it put in <see cref="ServerConnection.Tags"/>.
    /// </summary>
    public Func<ServerConnection, string?>? Identity { get; set; }

    /// <summary>Whether a room keeps a history under these options: recovery is on, and <see cref="Rooms"/> is empty or one of its patterns matches.</summary>
    /// <param name="roomId">The room.</param>
    /// <returns><see langword="true"/> when the room keeps a history.</returns>
    public bool KeepsHistory(string roomId)
    {
        ArgumentNullException.ThrowIfNull(roomId);
        if (!Enabled)
        {
            return false;
        }

        if (Rooms.Count == 0)
        {
            return true;
        }

        foreach (string pattern in Rooms)
        {
            if (pattern is not null && Matches(pattern, roomId))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="text"/> matches <paramref name="pattern"/>, in which <c>*</c> matches any run of characters (ordinal).</summary>
    internal static bool Matches(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        int p = 0, t = 0, star = -1, resume = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                resume = t;
            }
            else if (p < pattern.Length && pattern[p] == text[t])
            {
                p++;
                t++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++resume;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
