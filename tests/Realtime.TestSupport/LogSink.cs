using Microsoft.Extensions.Logging;

namespace Realtime.TestSupport;

/// <summary>Captures log entries so a test can assert that no unexpected error was logged.</summary>
/// <param name="minimumLevel">The lowest level kept (Debug: everything). A long test keeps Warning and above, so that the
/// sink does not hold on to an entry per connection.</param>
public sealed class LogSink(LogLevel minimumLevel = LogLevel.Debug) : ILoggerProvider
{
    private readonly WatchedList<LogEntry> _entries = new();
    private readonly LogLevel _minimumLevel = minimumLevel;

    public IReadOnlyList<LogEntry> Entries => _entries.Items;

    public IEnumerable<LogEntry> Errors => Entries.Where(e => e.Level >= LogLevel.Error);

    /// <summary>Completes when an entry with <paramref name="eventName"/> matching <paramref name="match"/> has been logged; returns it.</summary>
    public async Task<LogEntry> WaitForAsync(string eventName, Func<LogEntry, bool>? match = null)
    {
        bool Matches(LogEntry e) => e.EventName == eventName && (match is null || match(e));
        await _entries.WaitForAsync(entries => entries.Any(Matches), $"a '{eventName}' log entry");
        return Entries.First(Matches);
    }

    public ILogger CreateLogger(string categoryName) => new SinkLogger(this, categoryName);

    /// <summary>Fails when an Error-level entry was logged whose event name is not in <paramref name="expectedEventNames"/>.</summary>
    public void AssertNoUnexpectedErrors(params string[] expectedEventNames)
    {
        LogEntry[] unexpected = Errors.Where(e => !expectedEventNames.Contains(e.EventName)).ToArray();
        if (unexpected.Length > 0)
        {
            throw new InvalidOperationException("Unexpected error logs:\n" + string.Join("\n", unexpected.Select(e => e.ToString())));
        }
    }

    public void Dispose()
    {
    }

    public sealed record LogEntry(string Category, LogLevel Level, string? EventName, string Message, Exception? Exception,
                                  IReadOnlyList<KeyValuePair<string, object?>> Values)
    {
        /// <summary>When the entry was logged (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>).</summary>
        public long Timestamp { get; } = System.Diagnostics.Stopwatch.GetTimestamp();

        /// <summary>A structured value of the entry (a placeholder of the message template).</summary>
        public object? Value(string name) => Values.FirstOrDefault(v => v.Key == name).Value;

        public override string ToString() => $"{Level} {Category} [{EventName}] {Message} {Exception}";
    }

    private sealed class SinkLogger(LogSink sink, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= sink._minimumLevel;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                sink._entries.Add(new LogEntry(category, logLevel, eventId.Name, formatter(state, exception), exception,
                                               state as IReadOnlyList<KeyValuePair<string, object?>> ?? []));
            }
        }
    }
}
