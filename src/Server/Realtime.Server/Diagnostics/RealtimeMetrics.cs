using System.Diagnostics.Metrics;

namespace Realtime.Server.Diagnostics;

/// <summary>
/// The server's instruments, on the meter <see cref="MeterName"/>. Tags are low-cardinality values
/// the server chose (a disconnect reason), never a connection id, a room id or a client's value.
/// </summary>
internal sealed class RealtimeMetrics
{
    public const string MeterName = "Realtime.Server";

    private readonly UpDownCounter<long> _connections;
    private readonly Counter<long> _disconnects;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _messagesReceived;
    private readonly Counter<long> _receivePauses;
    private readonly Counter<long> _skipped;

    public RealtimeMetrics(IMeterFactory meterFactory)
    {
        Meter meter = meterFactory.Create(MeterName);
        _connections = meter.CreateUpDownCounter<long>("realtime.server.connections", "{connection}", "Connections currently accepted (after welcome).");
        _disconnects = meter.CreateCounter<long>("realtime.server.disconnects", "{connection}", "Accepted connections that ended, by reason.");
        _rejected = meter.CreateCounter<long>("realtime.server.handshakes.failed", "{connection}", "Connections that never got past the handshake (rejected, timed out or broken).");
        _messagesReceived = meter.CreateCounter<long>("realtime.server.messages.received", "{message}", "Application messages received from clients.");
        _receivePauses = meter.CreateCounter<long>("realtime.server.receive.pauses", "{pause}",
            "Times the server stopped reading a connection's socket (TCP back-pressure), by cause: application (its inbound queue was full) or rate_limit.");
        _skipped = meter.CreateCounter<long>("realtime.server.broadcast.skipped", "{member}",
            "Room members a broadcast was not sent to because their wire protocol cannot send it (a type it cannot carry, or too large in its encoding).");
    }

    public void ConnectionAccepted() => _connections.Add(1);

    public void ConnectionEnded(DisconnectReason reason)
    {
        _connections.Add(-1);
        if (_disconnects.Enabled)
        {
            _disconnects.Add(1, new KeyValuePair<string, object?>("reason", reason.ToString()));
        }
    }

    public void HandshakeFailed() => _rejected.Add(1);

    public void MessageReceived() => _messagesReceived.Add(1);

    /// <summary>The receive loop stopped reading: <paramref name="rateLimit"/> when the sender was over its rate, otherwise the application was behind.</summary>
    public void ReceivePaused(bool rateLimit)
    {
        if (_receivePauses.Enabled)
        {
            _receivePauses.Add(1, new KeyValuePair<string, object?>("cause", rateLimit ? "rate_limit" : "application"));
        }
    }

    public void MembersSkipped(int members) => _skipped.Add(members);
}
