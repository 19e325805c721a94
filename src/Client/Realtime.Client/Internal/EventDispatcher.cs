using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Realtime.Internal;

namespace Realtime.Client.Internal;

/// <summary>
/// Runs a connection's event handlers one at a time, in event order, on the thread pool and never on
/// the socket's receive loop. A handler that throws is logged; the others still run.
/// </summary>
/// <remarks>
/// Messages waiting for their handlers are bounded (<see cref="MaxPendingMessages"/>, <see cref="MaxPendingBytes"/>): past
/// that, <see cref="RaiseMessageAsync"/> waits, so the receive loop stops reading and TCP pushes back on the server instead
/// of memory growing. Connection events (connect, disconnect, errors) are few, never wait and are never dropped.
/// </remarks>
internal sealed class EventDispatcher
{
    /// <summary>Messages that may wait for their handlers before the receive loop waits too.</summary>
    public const int MaxPendingMessages = 1024;

    /// <summary>Bytes (wire size) of messages that may wait for their handlers; one larger message still fits when none waits.</summary>
    public const long MaxPendingBytes = 16L * 1024 * 1024;

    private static readonly AsyncLocal<EventDispatcher?> Current = new();

    private int _pendingMessages;
    private long _pendingBytes;
    private RoomSignal _room;

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

    public void Raise<TArgs>(ConnectionEvent<TArgs> evt, TArgs args) => Post(() => RaiseNow(evt, args));

    /// <summary>Raises a message event, waiting while too many messages wait for their handlers.</summary>
    /// <param name="message">The message.</param>
    /// <param name="size">Its size on the wire, for the byte bound.</param>
    /// <param name="cancellationToken">Stops waiting: the message is then dropped (the connection is closing).</param>
    public ValueTask RaiseMessageAsync(Message message, int size, CancellationToken cancellationToken)
        => TryReserve(size) ? Queue(message, size) : RaiseMessageWhenRoomAsync(message, size, cancellationToken);

    /// <summary>Runs <paramref name="action"/> after every event raised so far has been handled.</summary>
    public void Post(Action action) => _work.Writer.TryWrite(action);

    /// <summary>No more events: the dispatcher ends once it has run what is queued.</summary>
    public void Complete()
    {
        _work.Writer.TryComplete();
        _room.Signal();
    }

    private bool TryReserve(int size)
    {
        if (Interlocked.Increment(ref _pendingMessages) > MaxPendingMessages)
        {
            Interlocked.Decrement(ref _pendingMessages);
            return false;
        }

        long bytes = Interlocked.Add(ref _pendingBytes, size);
        if (bytes > MaxPendingBytes && bytes != size)
        {
            Unreserve(size); // an undo frees no room: it must not wake a waiter, or the waiter spins
            return false;
        }

        return true;
    }

    private void Unreserve(int size)
    {
        Interlocked.Decrement(ref _pendingMessages);
        Interlocked.Add(ref _pendingBytes, -size);
    }

    /// <summary>A handler has finished with a message: its room is free, and a receive loop waiting for room wakes.</summary>
    private void Release(int size)
    {
        Unreserve(size);
        _room.Signal();
    }

    private ValueTask Queue(Message message, int size)
    {
        Post(() =>
        {
            try
            {
                RaiseNow(ConnectionEvents.Message, message);
            }
            finally
            {
                Release(size);
            }
        });
        return ValueTask.CompletedTask;
    }

    private async ValueTask RaiseMessageWhenRoomAsync(Message message, int size, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task room = _room.Arm();
            if (TryReserve(size))
            {
                await Queue(message, size).ConfigureAwait(false);
                return;
            }

            try
            {
                await room.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (_work.Reader.Completion.IsCompleted)
            {
                return;
            }
        }
    }

    private void RaiseNow<TArgs>(ConnectionEvent<TArgs> evt, TArgs args)
    {
        foreach (EventRegistry.Registration registration in _registry.Snapshot(evt.Name))
        {
            if (registration.TryClaim())
            {
                Invoke(evt.Name, registration, static (d, a) => ((Action<TArgs>)d)(a), args);
            }
        }
    }

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
