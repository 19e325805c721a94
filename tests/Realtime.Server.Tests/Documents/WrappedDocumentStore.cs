namespace Realtime.Server.Tests.Documents;

/// <summary>An <see cref="InMemoryDocumentStore"/> behind every member, for test stores that change one or two of them.</summary>
internal abstract class WrappedDocumentStore : DocumentStore
{
    /// <summary>The store underneath (also where "another node" writes, unseen by this one's callers).</summary>
    public InMemoryDocumentStore Inner { get; } = new();

    public override ValueTask<DocumentRecord?> GetRecordAsync(string documentId, CancellationToken cancellationToken = default)
        => Inner.GetRecordAsync(documentId, cancellationToken);

    public override ValueTask<StoredSnapshot?> GetSnapshotAsync(string documentId, CancellationToken cancellationToken = default)
        => Inner.GetSnapshotAsync(documentId, cancellationToken);

    public override ValueTask<IReadOnlyList<DocumentOperation>> GetOperationsAsync(string documentId, long from, long? to,
                                                                                   CancellationToken cancellationToken = default)
        => Inner.GetOperationsAsync(documentId, from, to, cancellationToken);

    public override ValueTask<DocumentOperation?> FindOperationAsync(string documentId, string source, long sequence,
                                                                     CancellationToken cancellationToken = default)
        => Inner.FindOperationAsync(documentId, source, sequence, cancellationToken);

    public override ValueTask<StoredSnapshot?> GetMilestoneAsync(string documentId, long version, CancellationToken cancellationToken = default)
        => Inner.GetMilestoneAsync(documentId, version, cancellationToken);

    public override ValueTask<long?> TrimAsync(string documentId, DateTimeOffset before, CancellationToken cancellationToken = default)
        => Inner.TrimAsync(documentId, before, cancellationToken);

    public override ValueTask<bool> CommitAsync(string documentId, DocumentCommit commit, CancellationToken cancellationToken = default)
        => Inner.CommitAsync(documentId, commit, cancellationToken);

    public override ValueTask<bool> DeleteAsync(string documentId, long expectedVersion, CancellationToken cancellationToken = default)
        => Inner.DeleteAsync(documentId, expectedVersion, cancellationToken);
}
