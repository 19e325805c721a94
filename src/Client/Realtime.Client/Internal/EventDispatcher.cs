using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Realtime.Client.Internal;

/// <summary>
/// Runs a connection's event handlers one at a time, in event order, on the thread pool and never on
/// the socket's receive loop. A handler that throws is logged; the others still run.
/// </summary>
internal sealed class EventDispatcher
{
    private static readonly AsyncLocal<EventDispatcher?> Current = new();

    private readonly Channel<Action> _work = Channel.CreateUnbounded<Action>(new UnboundedChannelOptions { SingleReader = true });
    private readonly EventRegistry _registry;
    private readonly ILogger _logger;

    public EventDispatcher(EventRegistry registry, ILogger logger)
    {
        _registry = registry;
        _logger = logger;
        Completion = Task.Run(RunAsync);
    }

    public Task Completion { get; }

    /// <summary>Whether the caller is a handler running on this dispatcher.</summary>
    public bool IsCurrent => ReferenceEquals(Current.Value, this);

    public void Raise(ConnectionEvent evt) => Post(() =>
    {
        foreach (EventRegistry.Registration registration in _registry.Snapshot(evt.Name))
        {
            if (registration.TryClaim())
            {
                Invoke(evt.Name, registration, static (d, _) => ((Action)d)(), 0);
            }
        }
    });

    public void Raise<TArgs>(ConnectionEvent<TArgs> evt, TArgs args) => Post(() =>
    {
        foreach (EventRegistry.Registration registration in _registry.Snapshot(evt.Name))
        {
            if (registration.TryClaim())
            {
                Invoke(evt.Name, registration, static (d, a) => ((Action<TArgs>)d)(a), args);
            }
        }
    });

    /// <summary>Runs <paramref name="action"/> after every event raised so far has been handled.</summary>
    public void Post(Action action) => _work.Writer.TryWrite(action);

    /// <summary>No more events: the dispatcher ends once it has run what is queued.</summary>
    public void Complete() => _work.Writer.TryComplete();

    private void Invoke<TArgs>(string name, EventRegistry.Registration registration, Action<Delegate, TArgs> call, TArgs args)
    {
        try
        {
            call(registration.Handler, args);
        }
        catch (Exception ex)
        {
            ClientLog.HandlerFailed(_logger, name, ex);
        }
    }

    private async Task RunAsync()
    {
        Current.Value = this;
        await foreach (Action action in _work.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            action();
        }
    }
}
