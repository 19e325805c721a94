namespace Realtime.Server.Internal;

/// <summary>
/// The transport stream under a WebSocket, as the send loop sees it: while <see cref="Coalesce"/> is set (the send loop knows more
/// frames follow at once), the WebSocket's writes are gathered instead of written, and the next write with it cleared writes
/// everything gathered and itself in one write, so a burst of frames costs one flush and one socket send instead of one each.
/// </summary>
internal interface IWriteCoalescing
{
    /// <summary>Set by the send loop before a send when another frame is queued behind it; cleared for the last one.</summary>
    bool Coalesce { get; set; }
}
