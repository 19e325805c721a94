using System.Text.Json.Nodes;

namespace Realtime.Client.Internal;

/// <summary>
/// The loads a shared document waits on: one fetch in flight (a later one queued behind it), one subscribe in flight and whether the
/// document wants to stay subscribed, and history requests by id. The server matches none of them to a request id except history
/// replies, so fetch and subscribe replies are taken in order.
/// </summary>
/// <remarks>Not thread-safe: guarded by the <see cref="DocumentEngine"/>'s lock.</remarks>
internal sealed class DocumentRequests
{
    private readonly Dictionary<string, (long Version, TaskCompletionSource<SharedDocumentSnapshot> Waiter)> _history = new(StringComparer.Ordinal);
    private readonly List<TaskCompletionSource> _fetchWaiters = [];
    private readonly List<TaskCompletionSource> _nextFetchWaiters = [];
    private readonly List<TaskCompletionSource> _subscribeWaiters = [];
    private bool _fetchInFlight;
    private bool _fetchAgain;

    /// <summary>Whether a subscribe is sent and not answered.</summary>
    public bool SubscribeInFlight { get; private set; }

    /// <summary>Whether the document subscribed (and subscribes again after each reconnection).</summary>
    public bool Subscribed { get; private set; }

    /// <summary>Files a fetch.</summary>
    /// <returns>Whether to send it now; otherwise it goes after the answer of the fetch in flight, so it sees at least what its caller saw.</returns>
    public bool AddFetch(TaskCompletionSource? waiter)
    {
        List<TaskCompletionSource> waiters = _fetchInFlight ? _nextFetchWaiters : _fetchWaiters;
        if (waiter is not null)
        {
            waiters.Add(waiter);
        }

        if (_fetchInFlight)
        {
            _fetchAgain = true;
            return false;
        }

        _fetchInFlight = true;
        return true;
    }

    /// <summary>A fetch answer came: the calls it answers, and whether to send the fetch queued behind it.</summary>
    public TaskCompletionSource[] TakeFetchAnswer(out bool sendNext)
    {
        TaskCompletionSource[] answered = [.. _fetchWaiters];
        _fetchWaiters.Clear();
        _fetchInFlight = _fetchAgain;
        sendNext = _fetchAgain;
        if (_fetchAgain)
        {
            _fetchAgain = false;
            _fetchWaiters.AddRange(_nextFetchWaiters);
            _nextFetchWaiters.Clear();
        }

        return answered;
    }

    /// <summary>Files a subscribe.</summary>
    /// <returns>Whether to send it now (none is in flight).</returns>
    public bool AddSubscribe(TaskCompletionSource waiter)
    {
        _subscribeWaiters.Add(waiter);
        Subscribed = true;
        if (SubscribeInFlight)
        {
            return false;
        }

        SubscribeInFlight = true;
        return true;
    }

    /// <summary>A subscribe answer came: the calls it answers.</summary>
    public TaskCompletionSource[] TakeSubscribeAnswer(bool refused)
    {
        TaskCompletionSource[] answered = [.. _subscribeWaiters];
        _subscribeWaiters.Clear();
        SubscribeInFlight = false;
        Subscribed &= !refused;
        return answered;
    }

    /// <summary>Files a history request under a new id.</summary>
    public string AddHistory(long version, TaskCompletionSource<SharedDocumentSnapshot> waiter)
    {
        string id;
        do
        {
            id = Convert.ToHexString(Guid.NewGuid().ToByteArray(), 0, 4).ToLowerInvariant();
        }
        while (_history.ContainsKey(id));

        _history[id] = (version, waiter);
        return id;
    }

    /// <summary>Takes the history request a reply answers; none for an id already answered (a request sent twice around a reconnection).</summary>
    public TaskCompletionSource<SharedDocumentSnapshot>? TakeHistory(string id) => _history.Remove(id, out (long, TaskCompletionSource<SharedDocumentSnapshot> Waiter) request) ? request.Waiter : null;

    /// <summary>What to send again after a reconnection, in this order: the subscribe (from <paramref name="version"/>), the fetch waiting for its answer, history requests.</summary>
    public IEnumerable<JsonObject> Resend(long? version)
    {
        List<JsonObject> requests = [];
        if (Subscribed || SubscribeInFlight)
        {
            SubscribeInFlight = true;
            requests.Add(DocumentWire.Load(DocumentWire.Subscribe, version));
        }

        if (_fetchInFlight)
        {
            requests.Add(DocumentWire.Load(DocumentWire.Fetch, version));
        }

        foreach ((string id, (long historyVersion, _)) in _history)
        {
            requests.Add(DocumentWire.HistoryRequest(id, historyVersion));
        }

        return requests;
    }

    /// <summary>Fails every waiting call (the document is disposed).</summary>
    public void FailAll(Exception error)
    {
        foreach (TaskCompletionSource waiter in (IEnumerable<TaskCompletionSource>)[.. _fetchWaiters, .. _nextFetchWaiters, .. _subscribeWaiters])
        {
            waiter.TrySetException(error);
        }

        foreach ((_, TaskCompletionSource<SharedDocumentSnapshot> waiter) in _history.Values)
        {
            waiter.TrySetException(error);
        }

        _history.Clear();
    }
}
