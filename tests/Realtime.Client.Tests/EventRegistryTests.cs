using Microsoft.Extensions.Logging.Abstractions;
using Realtime.Client.Internal;
using Realtime.TestSupport;

namespace Realtime.Client.Tests;

public class EventRegistryTests
{
    private readonly EventRegistry _registry = new();
    private readonly EventDispatcher _dispatcher;

    public EventRegistryTests() => _dispatcher = new EventDispatcher(_registry, NullLogger.Instance);

    [Fact]
    public async Task Handlers_run_in_registration_order_and_events_in_raise_order()
    {
        var seen = new List<string>();
        _registry.Add("reconnect", (Action<int>)(n => seen.Add($"a{n}")), once: false);
        _registry.Add("reconnect", (Action<int>)(n => seen.Add($"b{n}")), once: false);
        _dispatcher.Raise(ConnectionEvents.Reconnect, 1);
        _dispatcher.Raise(ConnectionEvents.Reconnect, 2);
        await DrainAsync();
        Assert.Equal(new[] { "a1", "b1", "a2", "b2" }, seen);
    }

    [Fact]
    public async Task Once_runs_one_time_and_Off_removes_it_before_it_runs()
    {
        int once = 0, removed = 0;
        Action onceHandler = () => once++;
        Action removedHandler = () => removed++;
        _registry.Add("connect", onceHandler, once: true);
        _registry.Add("connect", removedHandler, once: true);
        _registry.Remove("connect", removedHandler);
        _dispatcher.Raise(ConnectionEvents.Connect);
        _dispatcher.Raise(ConnectionEvents.Connect);
        await DrainAsync();
        Assert.Equal(1, once);
        Assert.Equal(0, removed);
    }

    [Fact]
    public async Task Disposing_the_subscription_removes_only_that_registration()
    {
        int count = 0;
        Action handler = () => count++;
        IDisposable first = _registry.Add("connect", handler, once: false);
        _registry.Add("connect", handler, once: false);
        first.Dispose();
        _dispatcher.Raise(ConnectionEvents.Connect);
        await DrainAsync();
        Assert.Equal(1, count);
    }

    [Fact]
    public async Task Off_inside_a_handler_takes_effect_from_the_next_event()
    {
        var seen = new List<string>();
        Action second = () => seen.Add("second");
        _registry.Add("connect", (Action)(() =>
        {
            seen.Add("first");
            _registry.Remove("connect", second);
        }), once: false);
        _registry.Add("connect", second, once: false);
        _dispatcher.Raise(ConnectionEvents.Connect);
        _dispatcher.Raise(ConnectionEvents.Connect);
        await DrainAsync();
        Assert.Equal(new[] { "first", "second", "first" }, seen);
    }

    [Fact]
    public async Task A_throwing_handler_is_logged_and_the_others_still_run()
    {
        var logs = new LogSink();
        var dispatcher = new EventDispatcher(_registry, logs.CreateLogger("test"));
        var seen = new List<int>();
        _registry.Add("reconnect", (Action<int>)(_ => throw new InvalidOperationException("boom")), once: false);
        _registry.Add("reconnect", (Action<int>)seen.Add, once: false);
        dispatcher.Raise(ConnectionEvents.Reconnect, 7);
        dispatcher.Raise(ConnectionEvents.Reconnect, 8);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        dispatcher.Post(done.SetResult);
        await done.Task.DefaultTimeout();
        Assert.Equal(new[] { 7, 8 }, seen);
        Assert.Equal(2, logs.Errors.Count(e => e.EventName == "HandlerFailed"));
    }

    [Fact]
    public async Task Handlers_never_run_concurrently()
    {
        int running = 0, overlaps = 0;
        _registry.Add("reconnect", (Action<int>)(_ =>
        {
            if (Interlocked.Increment(ref running) > 1)
            {
                Interlocked.Increment(ref overlaps);
            }

            Thread.SpinWait(1000);
            Interlocked.Decrement(ref running);
        }), once: false);
        Parallel.For(0, 200, i => _dispatcher.Raise(ConnectionEvents.Reconnect, i));
        await DrainAsync();
        Assert.Equal(0, overlaps);
    }

    private Task DrainAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _dispatcher.Post(done.SetResult);
        return done.Task.DefaultTimeout("the dispatcher to drain");
    }
}
