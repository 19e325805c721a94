using System.Diagnostics.Metrics;
using Realtime.Server.Diagnostics;

namespace Realtime.Server.Internal.StatusPage;

/// <summary>
/// What the status page needs from the server's own instruments (meter <c>Realtime.Server</c> of this app's <see cref="IMeterFactory"/>),
/// read with a <see cref="MeterListener"/> so the server's code is not touched: the recent refusals and disconnects (rare events,
/// listened to from the page's mapping on) and the messages in and out per second (a measurement per message, so listened to only
/// while someone has watched the page in the last <see cref="WatchWindow"/>; otherwise those instruments have no listener here).
/// </summary>
internal sealed class StatusMonitor : IDisposable
{
    public const string ReceivedName = "realtime.server.messages.received";
    public const string SentName = "realtime.server.messages.sent";
    public const string RefusalsName = "realtime.server.refusals";
    public const string DisconnectsName = "realtime.server.disconnects";

    /// <summary>How long after the last request for data the message rates are still measured.</summary>
    public static readonly TimeSpan WatchWindow = TimeSpan.FromSeconds(30);

    /// <summary>Seconds of message rates kept (one sample a second while watched).</summary>
    public const int HistorySeconds = 60;

    private static readonly object Received = new();
    private static readonly object Sent = new();
    private static readonly object Refused = new();
    private static readonly object Disconnected = new();

    private readonly MeterListener _listener = new();
    private readonly object? _scope;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new(); // start, stop and samples: the page's requests and the sampler, never a measurement
    private readonly List<Instrument> _rateInstruments = [];
    private readonly Queue<(double In, double Out)> _history = new();
    private ITimer? _sampler; // runs while watched
    private long _watchedAt;
    private long _in;
    private long _out;
    private long _sampledIn;
    private long _sampledOut;
    private bool _disposed;

    /// <param name="scope">The app's <see cref="IMeterFactory"/>: the server's meter is the one it created (other apps in the process are ignored).</param>
    /// <param name="time">The clock.</param>
    public StatusMonitor(object? scope, TimeProvider time)
    {
        _scope = scope;
        _time = time;
        _listener.InstrumentPublished = OnInstrumentPublished;
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.Start();
    }

    /// <summary>The last refusals of upgrades and handshakes, by reason.</summary>
    public RecentEvents Refusals { get; } = new();

    /// <summary>The last ends of accepted connections, by reason.</summary>
    public RecentEvents Disconnects { get; } = new();

    /// <summary>Whether the message rates are being measured now.</summary>
    public bool Watching
    {
        get
        {
            lock (_gate)
            {
                return _sampler is not null;
            }
        }
    }

    /// <summary>Someone is looking: the message rates are measured from now on (if they were not), for <see cref="WatchWindow"/>.</summary>
    public void Watch()
    {
        lock (_gate)
        {
            _watchedAt = _time.GetTimestamp();
            if (_sampler is not null || _disposed)
            {
                return;
            }

            _history.Clear();
            _sampledIn = Interlocked.Read(ref _in);
            _sampledOut = Interlocked.Read(ref _out);
            foreach (Instrument instrument in _rateInstruments)
            {
                _listener.EnableMeasurementEvents(instrument, instrument.Name == ReceivedName ? Received : Sent);
            }

            _sampler = _time.CreateTimer(static s => ((StatusMonitor)s!).Sample(), this, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>Messages per second in and out, one sample a second, oldest first (empty until the first second of watching).</summary>
    public (double In, double Out)[] History()
    {
        lock (_gate)
        {
            return [.. _history];
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            StopWatching();
        }

        _listener.Dispose();
    }

    private void Sample()
    {
        lock (_gate)
        {
            if (_sampler is null)
            {
                return;
            }

            long totalIn = Interlocked.Read(ref _in);
            long totalOut = Interlocked.Read(ref _out);
            _history.Enqueue((totalIn - _sampledIn, totalOut - _sampledOut));
            _sampledIn = totalIn;
            _sampledOut = totalOut;
            while (_history.Count > HistorySeconds)
            {
                _history.Dequeue();
            }

            if (_time.GetElapsedTime(_watchedAt) > WatchWindow)
            {
                StopWatching();
            }
        }
    }

    /// <summary>Under <see cref="_gate"/>: nobody looked for a while; the per-message instruments lose this listener.</summary>
    private void StopWatching()
    {
        _sampler?.Dispose();
        _sampler = null;
        foreach (Instrument instrument in _rateInstruments)
        {
            _listener.DisableMeasurementEvents(instrument);
        }
    }

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        if (instrument.Meter.Name != RealtimeMetrics.MeterName || (_scope is not null && !ReferenceEquals(instrument.Meter.Scope, _scope)))
        {
            return;
        }

        switch (instrument.Name)
        {
            case RefusalsName:
                listener.EnableMeasurementEvents(instrument, Refused);
                break;
            case DisconnectsName:
                listener.EnableMeasurementEvents(instrument, Disconnected);
                break;
            case ReceivedName or SentName:
                lock (_gate)
                {
                    _rateInstruments.Add(instrument);
                    if (_sampler is not null)
                    {
                        listener.EnableMeasurementEvents(instrument, instrument.Name == ReceivedName ? Received : Sent);
                    }
                }

                break;
        }
    }

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (ReferenceEquals(state, Received))
        {
            Interlocked.Add(ref _in, value);
        }
        else if (ReferenceEquals(state, Sent))
        {
            Interlocked.Add(ref _out, value);
        }
        else if (ReferenceEquals(state, Refused))
        {
            Refusals.Add(_time.GetUtcNow(), Reason(tags, MetricTags.RefusalReasonKey), value);
        }
        else if (ReferenceEquals(state, Disconnected))
        {
            Disconnects.Add(_time.GetUtcNow(), Reason(tags, MetricTags.DisconnectReasonKey), value);
        }
    }

    /// <summary>The reason tag's value (<see cref="MetricTags"/> sets it on every measurement).</summary>
    private static string Reason(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key)
    {
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == key)
            {
                return tag.Value as string ?? "unknown";
            }
        }

        return "unknown";
    }
}
