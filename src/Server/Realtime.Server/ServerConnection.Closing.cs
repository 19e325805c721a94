using Realtime.Protocol;
using Realtime.Server.Diagnostics;
using Realtime.Server.Internal.Connections;

namespace Realtime.Server;

// How a connection ends: the heartbeat's verdict, the one close request that wins, and the deadlines behind it.
public sealed partial class ServerConnection
{
    private string? _refusal; // why the handshake was refused, when the close that refused it knew (a MetricTags refusal reason)

    /// <summary>Why the handshake was refused, when the close that refused it said so (see <see cref="NoteRefusal"/>).</summary>
    internal string? NotedRefusal => Volatile.Read(ref _refusal);

    /// <summary>Notes why the handshake is being refused, when it still has no outcome (a close that came first keeps its own).</summary>
    internal void NoteRefusal(string reason) => _ = IsHandshaking && Interlocked.CompareExchange(ref _refusal, reason, null) is null;

    /// <summary>Called by the shared heartbeat timer: sends a due ping, or closes with 4001 when the oldest unanswered ping expired.</summary>
    internal void OnHeartbeat(long now)
    {
        if (!Connected)
        {
            return;
        }

        switch (Inbound.CheckHeartbeat(now))
        {
            case HeartbeatAction.TimedOut:
                RealtimeLog.PingTimedOut(Server.Logger, Id, Server.Options.PingTimeout);
                RequestClose(DisconnectReason.PingTimeout, CloseCodes.PingTimeout, "Ping timeout", drain: false);
                break;
            case HeartbeatAction.SendPing:
                Enqueue(Protocol.Ping);
                break;
        }
    }

    /// <summary>
    /// Starts closing, once: the first caller's reason wins. With <paramref name="drain"/> the frames already queued are sent before
    /// the close frame; without it they are discarded. After <see cref="RealtimeOptions.CloseTimeout"/> the socket is aborted if the
    /// close has not completed.
    /// </summary>
    internal void RequestClose(DisconnectReason reason, int closeCode, string closeText, bool drain)
    {
        if (!ConnectionStates.TryClose(ref _state, reason))
        {
            return;
        }

        CloseCode = closeCode;
        if (Accepted)
        {
            Server.Metrics.QueuedAtClose(Outbound.Count, Outbound.QueuedBytes); // as the close begins: a discard below empties it
        }

        if (drain && Protocol.ClosePacket(reason, closeCode) is { } packet)
        {
            Outbound.TryEnqueue(packet);
        }

        // The deadline exists before the send loop can end (it ends once the queue completes), so the end always disposes it.
        SetTimer(static s => ((ServerConnection)s!).AbortHard(), Server.Options.CloseTimeout);
        Outbound.Complete(closeCode, closeText, discard: !drain);
        Inbound.SignalClosing(); // a receive loop waiting for room stops waiting
    }

    private void OnHandshakeTimeout()
    {
        if (State == ConnectionState.Handshaking)
        {
            RealtimeLog.HandshakeTimedOut(Server.Logger, Id, Server.Options.HandshakeTimeout);
            NoteRefusal(MetricTags.HandshakeTimeout);
            RequestClose(DisconnectReason.TransportError, CloseCodes.HandshakeTimeout, "Handshake timeout", drain: false);
        }
    }

    private void SetTimer(TimerCallback callback, TimeSpan dueTime)
    {
        ITimer timer = Server.Time.CreateTimer(callback, this, dueTime, Timeout.InfiniteTimeSpan);
        Interlocked.Exchange(ref _timer, timer)?.Dispose();
    }

    /// <summary>Whether an exception from the socket is the network's doing (see <see cref="TransportFailures.IsTransportFailure"/>).</summary>
    internal bool IsTransportFailure(Exception ex) => TransportFailures.IsTransportFailure(ex, ConnectionStates.IsClosing(State));

    internal void Abort() => TransportFailures.Abort(Socket);

    /// <summary>The close did not complete within <see cref="RealtimeOptions.CloseTimeout"/>: reset the connection itself.</summary>
    private void AbortHard()
    {
        Abort();
        try
        {
            _abortTransport?.Invoke();
        }
        catch (ObjectDisposedException)
        {
            // The request is over: there is nothing left to reset.
        }
    }
}
