namespace Realtime.Server;

/// <summary>
/// Where documents live (<see cref="DocumentOptions.Store"/>; <see cref="InMemoryDocumentStore"/> by default): for each document id, a
/// <see cref="DocumentRecord"/>, the op log, the latest snapshot as fragments, and milestone snapshots. Every store passes the
/// specification test base <c>DocumentStoreSpecification</c> (tests/Realtime.TestSupport).
/// </summary>
/// <remarks>
/// <para>All members are thread-safe and may be called concurrently, for one document too, from several nodes of a cluster sharing the
/// store. The one write that must be atomic is <see cref="CommitAsync"/>: the operation, the record's new version and (when given) the
/// snapshot go in together, or nothing does. The server serializes submits to one document on one node, and settles races between nodes
/// with the compare-and-set.</para>
/// <para>A store owns what it is given (it may keep the memory) and what it returns is not changed afterwards by the caller.</para>
/// </remarks>
public abstract class DocumentStore
{
    /// <summary>The document's record.</summary>
    /// <param name="documentId">The document.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The record, or <see langword="null"/> when the document does not exist.</returns>
    public abstract ValueTask<DocumentRecord?> GetRecordAsync(string documentId, CancellationToken cancellationToken = default);

    /// <summary>The latest stored snapshot; its version may be older than the record's (the rest is in the log).</summary>
    /// <param name="documentId">The document.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The snapshot, or <see langword="null"/> when none is stored.</returns>
    public abstract ValueTask<StoredSnapshot?> GetSnapshotAsync(string documentId, CancellationToken cancellationToken = default);

    /// <summary>The committed operations with versions from <paramref name="from"/> up to, not including, <paramref name="to"/>, in version order.</summary>
    /// <param name="documentId">The document.</param>
    /// <param name="from">The first version.</param>
    /// <param name="to">The end (exclusive), or <see langword="null"/> for every operation from <paramref name="from"/> on.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The operations found (empty when none; a gap is not filled).</returns>
    public abstract ValueTask<IReadOnlyList<DocumentOperation>> GetOperationsAsync(string documentId, long from, long? to,
                                                                                     CancellationToken cancellationToken = default);

    /// <summary>The committed operation submitted with <paramref name="source"/> and <paramref name="sequence"/>, if any (a resent create).</summary>
    /// <param name="documentId">The document.</param>
    /// <param name="source">The submitter's connection id.</param>
    /// <param name="sequence">Its <c>seq</c>.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The operation, or <see langword="null"/>.</returns>
    public abstract ValueTask<DocumentOperation?> FindOperationAsync(string documentId, string source, long sequence,
                                                                     CancellationToken cancellationToken = default);

    /// <summary>The newest milestone snapshot at or below <paramref name="version"/>.</summary>
    /// <param name="documentId">The document.</param>
    /// <param name="version">The highest version wanted.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The milestone, or <see langword="null"/> when there is none.</returns>
    public abstract ValueTask<StoredSnapshot?> GetMilestoneAsync(string documentId, long version, CancellationToken cancellationToken = default);

    /// <summary>Writes one committed operation, if the document is still at its version (see <see cref="DocumentCommit"/>).</summary>
    /// <param name="documentId">The document.</param>
    /// <param name="commit">What to write.</param>
    /// <param name="cancellationToken">Cancels the write (then nothing is written, or all of it: the caller cannot tell, and reads again).</param>
    /// <returns><see langword="true"/> when written; <see langword="false"/> when the record's version was not the operation's (another
    /// writer won), and nothing was written.</returns>
    public abstract ValueTask<bool> CommitAsync(string documentId, DocumentCommit commit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes several committed operations of one document, at consecutive versions, each as <see cref="CommitAsync"/> writes one (a
    /// compare-and-set on its version and incarnation), stopping at the first refused: the server's group commit, when several submits to
    /// one document wait their turn on a node. A store that can should write them in one transaction, so that one durable flush serves them
    /// all; this default calls <see cref="CommitAsync"/> for each in turn.
    /// </summary>
    /// <param name="documentId">The document.</param>
    /// <param name="commits">The commits in version order. Every one but the last may come without a snapshot (the last one's is the
    /// snapshot after them all).</param>
    /// <param name="cancellationToken">Cancels the write (then the commits not yet written are not, and the caller reads again).</param>
    /// <returns>How many were written: the first ones, in order (0 when the first was refused; a store writing them in one transaction
    /// may write none when any is refused). Never one after a refused one: it was prepared against the refused one's op.</returns>
    public virtual async ValueTask<int> CommitManyAsync(string documentId, IReadOnlyList<DocumentCommit> commits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(commits);
        for (int i = 0; i < commits.Count; i++)
        {
            try
            {
                if (!await CommitAsync(documentId, commits[i], cancellationToken).ConfigureAwait(false))
                {
                    return i;
                }
            }
            catch (Exception) when (i > 0)
            {
                return i; // the first ones are written: the caller tries the rest again on their own, which meets the failure there
            }
        }

        return commits.Count;
    }

    /// <summary>Erases the document, if it is still at <paramref name="expectedVersion"/>: its record, op log, snapshot and milestones,
    /// so that it is as if it never existed (version 0).</summary>
    /// <param name="documentId">The document.</param>
    /// <param name="expectedVersion">The version the record must have.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns><see langword="true"/> when erased; <see langword="false"/> when the version differs (nothing is erased).</returns>
    public abstract ValueTask<bool> DeleteAsync(string documentId, long expectedVersion, CancellationToken cancellationToken = default);

    /// <summary>Trims the document's history (<see cref="DocumentOptions.Retention"/>): finds the newest milestone whose
    /// <see cref="StoredSnapshot.Time"/> is at or before <paramref name="before"/>, and removes the operations below its version and the
    /// milestones older than it. History from that milestone on stays readable; the record and the latest snapshot are untouched.</summary>
    /// <param name="documentId">The document.</param>
    /// <param name="before">The newest commit time a milestone may have to be the new start of the history.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The version of that milestone (the oldest version history can now reach), or <see langword="null"/> when no milestone is
    /// old enough (nothing is removed).</returns>
    public abstract ValueTask<long?> TrimAsync(string documentId, DateTimeOffset before, CancellationToken cancellationToken = default);
}
