using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Realtime.Server.Diagnostics;

/// <summary>
/// The server's instruments, on the meter <see cref="MeterName"/>. Tags are low-cardinality values the server chose (an endpoint
/// kind, a protocol, a reason), never a connection id, a room id or a client's value. Every tag is a string constant: recording
/// boxes and allocates nothing, and what costs more than an add (reading the clock) is done only while someone listens.
/// </summary>
internal sealed class RealtimeMetrics
{
    public const string MeterName = "Realtime.Server";

    /// <summary>Bucket bounds of the duration histograms, in seconds: 50 µs to 10 s (a message's processing to a connection's life).</summary>
    private static readonly IReadOnlyList<double> DurationBuckets =
        [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Bucket bounds of the connection lifetime histogram, in seconds: 10 ms to a day.</summary>
    private static readonly IReadOnlyList<double> LifetimeBuckets = [0.01, 0.1, 1, 10, 60, 300, 900, 3600, 4 * 3600, 24 * 3600];

    /// <summary>Bucket bounds of the counts (recipients, queued frames): 0 to 100 000.</summary>
    private static readonly IReadOnlyList<long> CountBuckets = [0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10_000, 100_000];

    /// <summary>Bucket bounds of queued bytes: 0 to 64 MiB.</summary>
    private static readonly IReadOnlyList<long> ByteBuckets = [0, 1024, 16 * 1024, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024, 16 * 1024 * 1024, 64 * 1024 * 1024];

    private readonly UpDownCounter<long> _connections;
    private readonly Histogram<double> _connectionDuration;
    private readonly Counter<long> _disconnects;
    private readonly Counter<long> _refusals;
    private readonly Counter<long> _messagesReceived;
    private readonly Counter<long> _messagesSent;
    private readonly Counter<long> _bytesReceived;
    private readonly Counter<long> _bytesSent;
    private readonly Histogram<long> _recipients;
    private readonly Histogram<double> _messageDuration;
    private readonly Histogram<long> _queuedAtClose;
    private readonly Histogram<long> _queuedBytesAtClose;
    private readonly Counter<long> _slowConsumers;
    private readonly Counter<long> _receivePauses;
    private readonly Counter<long> _skipped;
    private Func<long>? _rooms;

    public RealtimeMetrics(IMeterFactory meterFactory)
    {
        Meter meter = meterFactory.Create(MeterName);
        _connections = meter.CreateUpDownCounter<long>("realtime.server.connections", "{connection}",
            "Connections currently accepted (from their registration, just before the room join and welcome), by endpoint kind and protocol.");
        _connectionDuration = meter.CreateHistogram("realtime.server.connection.duration", "s",
            "How long accepted connections lived, recorded when they end, by endpoint kind, protocol and disconnect reason.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LifetimeBuckets });
        meter.CreateObservableUpDownCounter("realtime.server.rooms", CurrentRooms, "{room}", "Rooms with members on this node.");
        _messagesReceived = meter.CreateCounter<long>("realtime.server.messages.received", "{message}",
            "Application messages read from clients, by protocol.");
        _messagesSent = meter.CreateCounter<long>("realtime.server.messages.sent", "{message}",
            "Application messages queued to connections (a broadcast to n members of the room on this node counts n).");
        _bytesReceived = meter.CreateCounter<long>("realtime.server.bytes.received", "By",
            "WebSocket message payload bytes read from clients (every message: application, control and handshake), by protocol.");
        _bytesSent = meter.CreateCounter<long>("realtime.server.bytes.sent", "By",
            "WebSocket message payload bytes the send loops wrote to sockets (every frame the server sends).");
        _recipients = meter.CreateHistogram("realtime.server.broadcast.recipients", "{connection}",
            "Members of the room on this node one broadcast was queued to.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = CountBuckets });
        _messageDuration = meter.CreateHistogram("realtime.server.message.duration", "s",
            "From a client's message read off its socket to the end of its processing (middleware, hooks, and every local enqueue they made).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _queuedAtClose = meter.CreateHistogram("realtime.server.outbound.queued_at_close", "{frame}",
            "Frames an accepted connection's outbound queue held when its close began (a close without drain discards them).",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = CountBuckets });
        _queuedBytesAtClose = meter.CreateHistogram("realtime.server.outbound.queued_bytes_at_close", "By",
            "Bytes an accepted connection's outbound queue held when its close began (a close without drain discards them).",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = ByteBuckets });
        _slowConsumers = meter.CreateCounter<long>("realtime.server.slow_consumers", "{connection}",
            "Connections closed with 4003 because their outbound queue was full.");
        _refusals = meter.CreateCounter<long>("realtime.server.refusals", "{connection}",
            "Upgrade requests and handshakes refused, by reason.");
        _disconnects = meter.CreateCounter<long>("realtime.server.disconnects", "{connection}", "Accepted connections that ended, by reason.");
        _receivePauses = meter.CreateCounter<long>("realtime.server.receive.pauses", "{pause}",
            "Times the server stopped reading a connection's socket (TCP back-pressure), by cause: application (its inbound queue was full) or rate_limit.");
        _skipped = meter.CreateCounter<long>("realtime.server.broadcast.skipped", "{member}",
            "Room members a broadcast was not sent to because their wire protocol cannot send it (a type it cannot carry, or too large in its encoding).");
    }

    /// <summary>Whether <c>realtime.server.message.duration</c> is listened to: only then does a message carry its arrival time.</summary>
    public bool MeasuresMessageDuration => _messageDuration.Enabled;

    /// <summary>The node's room count, for <c>realtime.server.rooms</c> (the node registers it when it is built).</summary>
    public void ObserveRooms(Func<long> rooms) => _rooms = rooms;

    /// <summary>A connection was accepted (registered): counted now, and its lifetime starts.</summary>
    public void ConnectionAccepted(ServerConnection connection)
    {
        connection.AcceptedAt = Stopwatch.GetTimestamp();
        _connections.Add(1, MetricTags.Endpoint(connection.Dense), MetricTags.Protocol(connection.Protocol));
    }

    /// <summary>An accepted connection ended (unregistered).</summary>
    public void ConnectionEnded(ServerConnection connection, DisconnectReason reason)
    {
        KeyValuePair<string, object?> endpoint = MetricTags.Endpoint(connection.Dense);
        KeyValuePair<string, object?> protocol = MetricTags.Protocol(connection.Protocol);
        _connections.Add(-1, endpoint, protocol);
        KeyValuePair<string, object?> why = MetricTags.Disconnect(reason);
        if (_connectionDuration.Enabled)
        {
            _connectionDuration.Record(Stopwatch.GetElapsedTime(connection.AcceptedAt).TotalSeconds, endpoint, protocol, why);
        }

        _disconnects.Add(1, why);
    }

    /// <summary>
    /// A connection registered but never accepted after all (its room join failed): it leaves the count of connections, and is
    /// not a disconnect; the refusal the lifecycle counts for it (<c>error</c>) is what it was.
    /// </summary>
    public void ConnectionWithdrawn(ServerConnection connection)
        => _connections.Add(-1, MetricTags.Endpoint(connection.Dense), MetricTags.Protocol(connection.Protocol));

    /// <summary>An upgrade or a handshake was refused; <paramref name="reason"/> is one of <see cref="MetricTags"/>' refusal reasons.</summary>
    public void Refused(string reason) => _refusals.Add(1, new KeyValuePair<string, object?>(MetricTags.RefusalReasonKey, reason));

    /// <summary>A WebSocket message of <paramref name="bytes"/> bytes was read; <paramref name="protocol"/> is <see cref="MetricTags.Protocol"/>.</summary>
    public void BytesReceived(int bytes, KeyValuePair<string, object?> protocol) => _bytesReceived.Add(bytes, protocol);

    /// <summary>An application message was read.</summary>
    public void MessageReceived(KeyValuePair<string, object?> protocol) => _messagesReceived.Add(1, protocol);

    /// <summary>A message read at <paramref name="arrived"/> (0: not measured) was processed.</summary>
    public void MessageProcessed(long arrived)
    {
        if (arrived != 0)
        {
            _messageDuration.Record(Stopwatch.GetElapsedTime(arrived).TotalSeconds);
        }
    }

    /// <summary>A broadcast was queued to <paramref name="recipients"/> members on this node.</summary>
    public void Broadcast(int recipients)
    {
        _recipients.Record(recipients);
        if (recipients > 0)
        {
            _messagesSent.Add(recipients);
        }
    }

    /// <summary>One application message was offered to one connection: counted when it was <paramref name="queued"/>.</summary>
    public void MessageSent(bool queued)
    {
        if (queued)
        {
            _messagesSent.Add(1);
        }
    }

    /// <summary>A send loop completed a write of <paramref name="bytes"/> bytes.</summary>
    public void BytesSent(long bytes) => _bytesSent.Add(bytes);

    /// <summary>A connection was closed with 4003 (its outbound queue was full).</summary>
    public void SlowConsumer() => _slowConsumers.Add(1);

    /// <summary>An accepted connection's close began with <paramref name="frames"/> frames, <paramref name="bytes"/> bytes, in its outbound queue.</summary>
    public void QueuedAtClose(int frames, long bytes)
    {
        _queuedAtClose.Record(frames);
        _queuedBytesAtClose.Record(bytes);
    }

    /// <summary>The receive loop stopped reading: <paramref name="rateLimit"/> when the sender was over its rate, otherwise the application was behind.</summary>
    public void ReceivePaused(bool rateLimit) => _receivePauses.Add(1, MetricTags.Pause(rateLimit));

    public void MembersSkipped(int members) => _skipped.Add(members);

    private long CurrentRooms() => _rooms?.Invoke() ?? 0;
}
