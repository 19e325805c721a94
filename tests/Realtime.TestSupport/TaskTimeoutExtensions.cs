using System.Diagnostics;

namespace Realtime.TestSupport;

/// <summary>Every await in a test has a deadline: a hang becomes a failure that names what was awaited.</summary>
public static class TaskTimeoutExtensions
{
    /// <summary>The default deadline: 15 s (none under a debugger).</summary>
    public static TimeSpan DefaultTimeoutSpan { get; } = Debugger.IsAttached ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(15);

    public static async Task DefaultTimeout(this Task task, string? what = null)
    {
        try
        {
            await task.WaitAsync(DefaultTimeoutSpan).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"Timed out after {DefaultTimeoutSpan} waiting for {what ?? "a task"}.", ex);
        }
    }

    public static async Task<T> DefaultTimeout<T>(this Task<T> task, string? what = null)
    {
        try
        {
            return await task.WaitAsync(DefaultTimeoutSpan).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"Timed out after {DefaultTimeoutSpan} waiting for {what ?? "a task"}.", ex);
        }
    }

    public static Task DefaultTimeout(this ValueTask task, string? what = null) => task.AsTask().DefaultTimeout(what);

    public static Task<T> DefaultTimeout<T>(this ValueTask<T> task, string? what = null) => task.AsTask().DefaultTimeout(what);
}
