using System.Text.Json;
using Realtime.Server.Internal;

namespace Realtime.Server;

/// <summary>
/// Settings of the Realtime server. Bind them from configuration in the ordinary ASP.NET way
/// (for example the section <c>Realtime</c>, so that <c>Realtime__PingInterval=00:00:01</c> works);
/// they are validated when the application starts.
/// </summary>
public sealed class RealtimeOptions
{
    /// <summary>How often the server sends <c>ping</c> to each connection, after <c>welcome</c>. Default 25 s; at least 1 ms.</summary>
    public TimeSpan PingInterval { get; set; } = RealtimeDefaults.PingInterval;

    /// <summary>How long a <c>ping</c> may stay unanswered before the connection is closed with 4001 (ping timeout). Default 20 s; at least 1 ms.</summary>
    public TimeSpan PingTimeout { get; set; } = RealtimeDefaults.PingTimeout;

    /// <summary>How long a new connection has, from the upgrade, to send <c>hello</c> and pass connect middleware; then it is closed with 4008. Default 10 s.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = RealtimeDefaults.HandshakeTimeout;

    /// <summary>How long the server waits for the peer's close frame (or for a stuck send) after it starts closing a connection, before aborting the socket. Default 5 s.</summary>
    public TimeSpan CloseTimeout { get; set; } = RealtimeDefaults.CloseTimeout;

    /// <summary>The largest message a client may send, in bytes, measured on the whole WebSocket message; a larger one closes the connection with 1009. Default 1 MiB (1 048 576); at least 1 KiB.</summary>
    public int MaxMessageSize { get; set; } = RealtimeDefaults.MaxMessageSize;

    /// <summary>
    /// How many frames may wait in one connection's outbound queue; when it is full the connection is closed with 4003 (slow consumer).
    /// Default 4096: a room member must absorb a sender's whole <see cref="MessageBurst"/> while its socket catches up.
    /// </summary>
    public int MaxQueuedMessages { get; set; } = RealtimeDefaults.MaxQueuedMessages;

    /// <summary>
    /// How many bytes may wait in one connection's outbound queue; past this the connection is closed with 4003 (slow consumer).
    /// A single frame larger than the bound is still queued when the queue is empty. Default 4 MiB (4 194 304); at least 1 KiB.
    /// </summary>
    /// <remarks>A broadcast's bytes are shared by every recipient, but each recipient's queue counts them in full: this bounds what one slow client can hold on to.</remarks>
    public long MaxQueuedBytes { get; set; } = RealtimeDefaults.MaxQueuedBytes;

    /// <summary>The most connections this server holds at once, handshakes included; past this an upgrade is refused with HTTP 503. Default 100 000.</summary>
    public int MaxConnections { get; set; } = RealtimeDefaults.MaxConnections;

    /// <summary>
    /// The most connections one client IP address holds at once, handshakes included; past this an upgrade is refused with HTTP 429.
    /// Default 1000. Behind a reverse proxy, use ASP.NET Core's forwarded-headers middleware so that the client's address is seen.
    /// </summary>
    public int MaxConnectionsPerIpAddress { get; set; } = RealtimeDefaults.MaxConnectionsPerIpAddress;

    /// <summary>
    /// The sustained rate of frames (messages and pongs) one connection may send, per second. A sender above it, once its
    /// <see cref="MessageBurst"/> is spent, is slowed down to it: the server stops reading its socket until the next frame
    /// is allowed (TCP back-pressure), and loses nothing. 0 turns the limit off. Default 200.
    /// </summary>
    public int MaxMessagesPerSecond { get; set; } = RealtimeDefaults.MaxMessagesPerSecond;

    /// <summary>
    /// How many frames a connection may send at once above the sustained rate (the token bucket's size). Default 2000, so that a
    /// paste or a replay after an offline spell goes through at full speed; at least 1.
    /// </summary>
    public int MessageBurst { get; set; } = RealtimeDefaults.MessageBurst;

    /// <summary>
    /// How long the rate limit may hold a sender back without a break before the connection is closed with 1008 (policy
    /// violation): only a sender that keeps sending faster than <see cref="MaxMessagesPerSecond"/> for this long, after its
    /// burst, is cut off. Default 30 s; at least 1 ms.
    /// </summary>
    public TimeSpan MaxThrottleTime { get; set; } = RealtimeDefaults.MaxThrottleTime;

    /// <summary>
    /// The browser origins allowed to connect, such as <c>https://app.example.com</c> (scheme, host and port; compared
    /// without case). An upgrade whose <c>Origin</c> header is not listed is refused with HTTP 403, which stops
    /// cross-site WebSocket hijacking. Requests without an <c>Origin</c> header (non-browser clients) are allowed.
    /// Empty (the default): every origin is allowed.
    /// </summary>
    public IList<string> AllowedOrigins { get; } = [];

    /// <summary>Recovery after a brief drop: which rooms keep a history of their broadcasts, how much and for how long (docs/recovery.md). Off by default.</summary>
    public RecoveryOptions Recovery { get; } = new();

    /// <summary>The serializer options of <c>Send</c> and <c>Broadcast</c>. Default <see cref="JsonSerializerDefaults.Web"/> (camelCase).</summary>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new(JsonSerializerDefaults.Web);
}
