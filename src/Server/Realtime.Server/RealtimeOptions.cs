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

    /// <summary>How many frames may wait in one connection's outbound queue; when it is full the connection is closed with 4003 (slow consumer). Default 1024.</summary>
    public int MaxQueuedMessages { get; set; } = RealtimeDefaults.MaxQueuedMessages;

    /// <summary>The serializer options of <c>Send</c> and <c>Broadcast</c>. Default <see cref="JsonSerializerDefaults.Web"/> (camelCase).</summary>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new(JsonSerializerDefaults.Web);
}
