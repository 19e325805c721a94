namespace Realtime.Server;

/// <summary>
/// One write of the submit pipeline (<see cref="DocumentStore.CommitAsync"/>): append <see cref="Operation"/> to the log and move the
/// record to <see cref="Operation"/>'s version + 1, only if the record's version is still <see cref="Operation"/>'s version (0 with no
/// record): a compare-and-set, so that writers on several nodes settle a race (the loser's pipeline retries).
/// </summary>
/// <param name="Operation">The operation, at the version the document must have (not <see cref="DocumentOperationKind.Delete"/>:
/// see <see cref="DocumentStore.DeleteAsync"/>).</param>
/// <param name="Type">The document's type URI after the write.</param>
/// <param name="Snapshot">The latest snapshot after the write (its version is the new version), or <see langword="null"/> to leave the
/// stored one as it is (older than the record: readers rebuild the rest from the log).</param>
/// <param name="Milestone">When set, a milestone snapshot to keep for history reads (at its own version).</param>
public sealed record DocumentCommit(DocumentOperation Operation, string Type, StoredSnapshot? Snapshot, StoredSnapshot? Milestone)
{
    /// <summary>For the commit at version 0 (the create that makes the record): the id of the document's new life, kept in its record
    /// (<see cref="DocumentRecord.Incarnation"/>). At a later version, the life the write was prepared against: when set, the record
    /// moves only if its incarnation is the same (or it has none, as records written before stores kept one), so that a write prepared
    /// against a document that was deleted and created again meanwhile, by another node, is refused even at the same version.</summary>
    public string? Incarnation { get; init; }
}
