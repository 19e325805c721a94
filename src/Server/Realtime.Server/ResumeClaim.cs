namespace Realtime.Server;

/// <summary>The answer of <see cref="RealtimeBackplane.ClaimResumeAsync"/>: may a former connection's resume token be used now?</summary>
public enum ResumeClaim
{
    /// <summary>No: it was used already, or its connection ended longer ago than the window, or no such connection was known.</summary>
    Refused,

    /// <summary>Yes, once: its connection ended within the window. Nobody can claim it again.</summary>
    Claimed,

    /// <summary>Yes, once: its connection is still open on some node (the server has not noticed the drop yet). The caller closes it.</summary>
    ClaimedLive,
}
