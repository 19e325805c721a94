namespace Realtime.Protocol;

/// <summary>The kinds of frame in protocol v1 (the <c>t</c> field of text frames; binary frames are <see cref="Message"/>).</summary>
public enum FrameKind
{
    /// <summary><c>hello</c>, client to server: the first frame, with the auth payload.</summary>
    Hello,

    /// <summary><c>welcome</c>, server to client: handshake accepted.</summary>
    Welcome,

    /// <summary><c>reject</c>, server to client: handshake refused; close 4002 follows.</summary>
    Reject,

    /// <summary><c>msg</c> (text) or a binary frame, both directions: an application message.</summary>
    Message,

    /// <summary><c>error</c>, server to client: a message was refused; the connection stays open.</summary>
    Error,

    /// <summary><c>ping</c>, server to client: heartbeat probe.</summary>
    Ping,

    /// <summary><c>pong</c>, client to server: heartbeat answer.</summary>
    Pong,

    /// <summary>A text frame whose <c>t</c> is not a kind of v1: a server closes with 1002, a client ignores it.</summary>
    Unknown,
}
