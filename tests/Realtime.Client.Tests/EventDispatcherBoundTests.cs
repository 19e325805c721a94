using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Realtime.Client.Internal;
using Realtime.TestSupport;

namespace Realtime.Client.Tests;

/// <summary>The dispatcher's bound: slow handlers push back on the receive loop instead of growing memory.</summary>
public class EventDispatcherBoundTests
{
    private static readonly Message Small = new("m", JsonDocument.Parse("1").RootElement);

    [Fact]
    public async Task Past_the_bound_a_message_waits_for_a_handler_to_finish_and_none_is_lost_or_reordered()
    {
        var registry = new EventRegistry();
        var dispatcher = new EventDispatcher(registry, NullLogger.Instance);
        using var gate = new ManualResetEventSlim();
        var seen = new WatchedList<int>();
        int n = 0;
        registry.Add(ConnectionEvents.Message.Name, (Action<Message>)(_ =>
        {
            gate.Wait(TimeSpan.FromSeconds(30));
            seen.Add(n++);
        }), once: false);

        // The first message is taken by the (blocked) handler; the bound's worth more waits without blocking the caller.
        int accepted = 0;
        while (accepted < EventDispatcher.MaxPendingMessages + 10 && dispatcher.RaiseMessageAsync(Small, 8, CancellationToken.None).IsCompletedSuccessfully)
        {
            accepted++;
        }

        Assert.InRange(accepted, EventDispatcher.MaxPendingMessages - 1, EventDispatcher.MaxPendingMessages);

        // The next raise waits until a handler finishes; connection events never wait.
        ValueTask blocked = dispatcher.RaiseMessageAsync(Small, 8, CancellationToken.None);
        Assert.False(blocked.IsCompleted);
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        registry.Add(ConnectionEvents.Connect.Name, (Action)(() => connected.TrySetResult()), once: false);
        dispatcher.Raise(ConnectionEvents.Connect);

        gate.Set();
        await blocked.AsTask().DefaultTimeout("the waiting raise");
        await connected.Task.DefaultTimeout("the connect event");
        await seen.WaitForAsync(s => s.Count == accepted + 1, $"{accepted + 1} messages handled"); // the loop's last, refused try queued nothing
        Assert.Equal(Enumerable.Range(0, accepted + 1), seen.Items);
        dispatcher.Complete();
        await dispatcher.Completion.DefaultTimeout("the dispatcher to end");
    }

    [Fact]
    public async Task The_bound_counts_bytes_too_and_a_close_stops_the_wait_dropping_the_message()
    {
        var registry = new EventRegistry();
        var dispatcher = new EventDispatcher(registry, NullLogger.Instance);
        using var gate = new ManualResetEventSlim();
        registry.Add(ConnectionEvents.Message.Name, (Action<Message>)(_ => gate.Wait(TimeSpan.FromSeconds(30))), once: false);
        int big = (int)(EventDispatcher.MaxPendingBytes / 4);
        try
        {
            int accepted = 0;
            while (accepted < 10 && dispatcher.RaiseMessageAsync(Small, big, CancellationToken.None).IsCompletedSuccessfully)
            {
                accepted++;
            }

            Assert.Equal(4, accepted); // four quarters of the byte bound; the one a handler holds still counts until it returns

            using var closing = new CancellationTokenSource();
            ValueTask waiting = dispatcher.RaiseMessageAsync(Small, big, closing.Token);
            Assert.False(waiting.IsCompleted);
            await closing.CancelAsync();
            await waiting.AsTask().DefaultTimeout("the wait to end on close");
        }
        finally
        {
            gate.Set();
        }

        dispatcher.Complete();
        await dispatcher.Completion.DefaultTimeout("the dispatcher to end");
    }
}
