namespace Realtime.Server.Internal;

/// <summary>The defaults of <see cref="RealtimeOptions"/>, as named constants.</summary>
internal static class RealtimeDefaults
{
    public static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(25);
    public static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(20);
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);
    public const int MaxMessageSize = Protocol.ProtocolLimits.DefaultMaxMessageSize;
    public const int MaxQueuedMessages = 4096;
    public const int MinMaxMessageSize = 1024;
    public const long MaxQueuedBytes = 4L * 1024 * 1024;
    public const int MaxConnections = 100_000;
    public const int MaxConnectionsPerIpAddress = 1000;
    public const int MaxMessagesPerSecond = 200;
    public const int MessageBurst = 2000;
    public static readonly TimeSpan MaxThrottleTime = TimeSpan.FromSeconds(30);

    /// <summary>Inbound messages waiting for the application's middleware and hooks; past this the receive loop waits (TCP back-pressure).</summary>
    public const int InboundQueueCapacity = 128;

    /// <summary>Inbound bytes (wire size) waiting for the application; past this the receive loop waits. One larger message still fits an empty queue.</summary>
    public const long InboundQueueBytes = 4L * 1024 * 1024;
}
