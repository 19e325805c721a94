using System.Diagnostics.Tracing;
using System.Text.Json;

namespace Realtime.Shared.Tests;

/// <summary>A received message's data, parsed when the application first reads it.</summary>
public sealed class LazyJsonTests
{
    [Fact]
    public void Reading_the_data_keeps_no_pooled_buffer_from_the_pool_and_the_element_stays_valid()
    {
        var data = new LazyJson("{\"a\":[1,2,3],\"b\":\"text\"}"u8.ToArray());
        JsonElement element;
        using (var pool = new ArrayPoolWatcher())
        {
            element = data.Element;
            Assert.True(pool.Rented == pool.Returned, $"parsing rented {pool.Rented} pooled arrays on this thread and gave back {pool.Returned}");
        }

        GC.Collect();
        Assert.Equal(3, element.GetProperty("a").GetArrayLength());
        Assert.Equal("text", data.Element.GetProperty("b").GetString());
        Assert.Equal(JsonValueKind.Null, new LazyJson("null"u8.ToArray()).Element.ValueKind);
    }

    /// <summary>Counts the ArrayPool rentals and returns made on the thread that created it (the runtime's own event source).</summary>
    private sealed class ArrayPoolWatcher : EventListener
    {
        private readonly int _threadId = Environment.CurrentManagedThreadId;
        private bool _ready;

        public ArrayPoolWatcher()
        {
            _ready = true;
            foreach (EventSource source in EventSource.GetSources())
            {
                OnEventSourceCreated(source);
            }
        }

        public int Rented { get; private set; }

        public int Returned { get; private set; }

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (_ready && eventSource.Name == "System.Buffers.ArrayPoolEventSource")
            {
                EnableEvents(eventSource, EventLevel.Verbose);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (Environment.CurrentManagedThreadId != _threadId)
            {
                return;
            }

            switch (eventData.EventName)
            {
                case "BufferRented":
                    Rented++;
                    break;
                case "BufferReturned":
                    Returned++;
                    break;
            }
        }
    }
}
