namespace Realtime.Server.Internal.Documents;

/// <summary>A submit in its document's queue (<see cref="ActiveDocument"/>): what it asks, who to answer, and its outcome once drained.</summary>
internal sealed class PendingSubmit(ServerConnection? connection, SubmitRequest request, Func<SubmitResult, ValueTask>? reply, CancellationToken cancellationToken)
{
    private readonly TaskCompletionSource<SubmitResult> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ServerConnection? Connection { get; } = connection;

    public SubmitRequest Request { get; } = request;

    public Func<SubmitResult, ValueTask>? Reply { get; } = reply;

    /// <summary>The submitter's token: a submit cancelled before its turn is dropped.</summary>
    public CancellationToken CancellationToken { get; } = cancellationToken;

    /// <summary>Done when the submit was written and answered, refused, failed or dropped.</summary>
    public Task<SubmitResult> Completion => _outcome.Task;

    public void Complete(SubmitResult result) => _outcome.TrySetResult(result);

    public void Fail(Exception exception) => _outcome.TrySetException(exception);

    public void Cancel() => _outcome.TrySetCanceled(CancellationToken);
}
