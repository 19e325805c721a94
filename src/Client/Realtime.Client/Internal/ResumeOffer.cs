namespace Realtime.Client.Internal;

/// <summary>
/// What a reconnection offers in its <c>hello</c> to recover the room's broadcasts it missed (docs/protocol.md §3.1): the resume
/// token of the previous connection's <c>welcome</c>, and the last room position that connection received.
/// </summary>
/// <param name="Token">The previous connection's resume token; it is good for one reconnection.</param>
/// <param name="Position">The last position received, from the <c>welcome</c> or a message after it.</param>
internal sealed record ResumeOffer(string Token, string Position)
{
    /// <summary>The offer a connection that has ended leaves behind: none when its room keeps no history.</summary>
    /// <param name="ended">The transport, after its run has completed.</param>
    /// <returns>The offer, or <see langword="null"/> when the <c>welcome</c> issued no token or no position.</returns>
    public static ResumeOffer? After(Transport ended)
        => ended.ResumeToken is { } token && ended.LastPosition is { } position ? new ResumeOffer(token, position) : null;
}
