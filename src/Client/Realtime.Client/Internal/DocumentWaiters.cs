namespace Realtime.Client.Internal;

/// <summary>The calls of a shared document that wait for the server: their tasks, and how an answer settles them.</summary>
internal static class DocumentWaiters
{
    /// <summary>A waiter whose continuations run asynchronously, so completing it under the <see cref="DocumentEngine"/>'s lock runs no user code.</summary>
    public static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes <paramref name="waiters"/>: successfully, or with <paramref name="error"/> when there is one.</summary>
    public static void Complete(IEnumerable<TaskCompletionSource> waiters, Exception? error)
    {
        foreach (TaskCompletionSource waiter in waiters)
        {
            if (error is null)
            {
                waiter.TrySetResult();
            }
            else
            {
                waiter.TrySetException(error);
            }
        }
    }
}
