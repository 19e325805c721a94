using Microsoft.Extensions.Logging;

namespace Realtime.Client.Internal;

/// <summary>
/// Handlers per event name. The lists are immutable arrays replaced under a small lock, so raising an
/// event takes a snapshot and holds no lock while handlers run.
/// </summary>
internal sealed class EventRegistry
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Registration[]> _handlers = new(StringComparer.Ordinal);

    public IDisposable Add(string name, Delegate handler, bool once)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var registration = new Registration(this, name, handler, once);
        lock (_gate)
        {
            _handlers[name] = _handlers.TryGetValue(name, out Registration[]? list) ? [.. list, registration] : [registration];
        }

        return registration;
    }

    /// <summary>Removes every registration of <paramref name="handler"/> for the event, also those added with <c>Once</c>.</summary>
    public void Remove(string name, Delegate handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_gate)
        {
            if (_handlers.TryGetValue(name, out Registration[]? list))
            {
                Set(name, Array.FindAll(list, r => !r.Handler.Equals(handler)));
            }
        }
    }

    public Registration[] Snapshot(string name)
    {
        lock (_gate)
        {
            return _handlers.TryGetValue(name, out Registration[]? list) ? list : [];
        }
    }

    /// <summary>Runs the event's handlers now, on the caller's thread and in order, unless there is nothing to tell.</summary>
    /// <param name="name">The event's name.</param>
    /// <param name="args">The event's argument.</param>
    /// <param name="count">How many items <paramref name="args"/> tells of; none runs no handler.</param>
    /// <param name="logger">Where a handler's exception is logged; it never reaches the caller.</param>
    /// <param name="logPrefix">Put before <paramref name="name"/> in that log.</param>
    public void RunNow<TArgs>(string name, TArgs args, int count, ILogger logger, string logPrefix)
    {
        if (count == 0)
        {
            return;
        }

        foreach (Registration registration in Snapshot(name))
        {
            if (registration.TryClaim())
            {
                try
                {
                    ((Action<TArgs>)registration.Handler)(args);
                }
                catch (Exception ex)
                {
                    ClientLog.HandlerFailed(logger, logPrefix + name, ex);
                }
            }
        }
    }

    private void Remove(Registration registration)
    {
        lock (_gate)
        {
            if (_handlers.TryGetValue(registration.Name, out Registration[]? list))
            {
                Set(registration.Name, Array.FindAll(list, r => !ReferenceEquals(r, registration)));
            }
        }
    }

    private void Set(string name, Registration[] list)
    {
        if (list.Length == 0)
        {
            _handlers.Remove(name);
        }
        else
        {
            _handlers[name] = list;
        }
    }

    /// <summary>One handler of one event; disposing it removes it.</summary>
    internal sealed class Registration(EventRegistry owner, string name, Delegate handler, bool once) : IDisposable
    {
        private int _claimed;

        public string Name { get; } = name;

        public Delegate Handler { get; } = handler;

        /// <summary>Whether this registration may run now: always for <c>On</c>, once for <c>Once</c> (which is then removed).</summary>
        public bool TryClaim()
        {
            if (!once)
            {
                return true;
            }

            if (Interlocked.Exchange(ref _claimed, 1) != 0)
            {
                return false;
            }

            owner.Remove(this);
            return true;
        }

        public void Dispose() => owner.Remove(this);
    }
}
