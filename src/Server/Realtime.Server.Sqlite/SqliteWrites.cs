using Microsoft.Data.Sqlite;

namespace Realtime.Server.Sqlite;

/// <summary>
/// The store's three writes, each one <c>BEGIN IMMEDIATE</c> transaction (the file's write lock is taken first, so the version read
/// is the version the write replaces: the compare-and-set). Nothing is written unless the version matches (a trim compares none);
/// a failure rolls back.
/// </summary>
internal static class SqliteWrites
{
    public static bool Commit(SqliteSession session, string documentId, DocumentCommit commit, CancellationToken cancellationToken)
    {
        using SqliteTransaction transaction = session.Connection.BeginTransaction(deferred: false);
        if (!Write(session, transaction, documentId, commit))
        {
            return false; // rolled back by the transaction's disposal: nothing was written (another version, or another life of the document)
        }

        // The last moment a cancellation leaves nothing written.
        cancellationToken.ThrowIfCancellationRequested();
        transaction.Commit();
        return true;
    }

    /// <summary>Several commits in one transaction (one sync of the file for all): all written, or none (0) when any is refused.</summary>
    public static int CommitMany(SqliteSession session, string documentId, IReadOnlyList<DocumentCommit> commits, CancellationToken cancellationToken)
    {
        using SqliteTransaction transaction = session.Connection.BeginTransaction(deferred: false);
        foreach (DocumentCommit commit in commits)
        {
            if (!Write(session, transaction, documentId, commit))
            {
                return 0; // rolled back by the transaction's disposal
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        transaction.Commit();
        return commits.Count;
    }

    /// <summary>One commit's compare-and-set and writes, in <paramref name="transaction"/>; <see langword="false"/> (nothing written) when
    /// the record is at another version or of another life.</summary>
    private static bool Write(SqliteSession session, SqliteTransaction transaction, string documentId, DocumentCommit commit)
    {
        DocumentOperation operation = commit.Operation;
        (long Doc, long Version, string? Incarnation)? row = Lock(session, transaction, documentId);
        if ((row?.Version ?? 0) != operation.Version
            || (row?.Incarnation is { } kept && commit.Incarnation is { } expected && !string.Equals(kept, expected, StringComparison.Ordinal)))
        {
            return false;
        }

        long doc;
        SqliteCommand command;
        if (row is { } existing)
        {
            doc = existing.Doc;
            command = session.Command(SqliteStatements.UpdateDocument, transaction);
            SqliteRows.Bind(command, "$doc", doc);
            SqliteRows.Bind(command, "$version", operation.Version + 1);
            SqliteRows.Bind(command, "$type", commit.Type);
            command.ExecuteNonQuery();
        }
        else
        {
            command = session.Command(SqliteStatements.InsertDocument, transaction);
            SqliteRows.Bind(command, "$id", documentId);
            SqliteRows.Bind(command, "$version", operation.Version + 1);
            SqliteRows.Bind(command, "$type", commit.Type);
            SqliteRows.Bind(command, "$incarnation", commit.Incarnation); // no row: the version is 0, the create's
            doc = (long)command.ExecuteScalar()!;
        }

        command = session.Command(SqliteStatements.InsertOperation, transaction);
        SqliteRows.Bind(command, "$doc", doc);
        SqliteRows.Bind(command, "$version", operation.Version);
        SqliteRows.Bind(command, "$source", operation.Source);
        SqliteRows.Bind(command, "$sequence", operation.Sequence);
        SqliteRows.Bind(command, "$kind", SqliteRows.Kind(operation.Kind));
        SqliteRows.BindBlob(command, "$payload", operation.Payload);
        command.ExecuteNonQuery();

        if (commit.Snapshot is { } snapshot)
        {
            WriteSnapshot(session, transaction, doc, snapshot);
        }

        if (commit.Milestone is { } milestone)
        {
            WriteMilestone(session, transaction, doc, milestone);
        }

        return true;
    }

    public static bool Delete(SqliteSession session, string documentId, long expectedVersion, CancellationToken cancellationToken)
    {
        using SqliteTransaction transaction = session.Connection.BeginTransaction(deferred: false);
        (long Doc, long Version, string? Incarnation)? row = Lock(session, transaction, documentId);
        if (row is not { } existing)
        {
            return expectedVersion == 0;
        }

        if (existing.Version != expectedVersion)
        {
            return false;
        }

        foreach (string sql in (ReadOnlySpan<string>)[SqliteStatements.DeleteOperations, SqliteStatements.DeleteSnapshotFragments,
                                                      SqliteStatements.DeleteMilestoneFragments, SqliteStatements.DeleteMilestones,
                                                      SqliteStatements.DeleteDocument])
        {
            SqliteCommand command = session.Command(sql, transaction);
            SqliteRows.Bind(command, "$doc", existing.Doc);
            command.ExecuteNonQuery();
        }

        cancellationToken.ThrowIfCancellationRequested();
        transaction.Commit();
        return true;
    }

    /// <summary>
    /// Removes the document's ops below the newest milestone committed at or before <paramref name="before"/>, and the milestones
    /// below it; the record, the latest snapshot and that milestone stay. Each statement is a range of the document's own keys.
    /// </summary>
    /// <returns>That milestone's version, or <see langword="null"/> when there is no such milestone (nothing is removed).</returns>
    public static long? Trim(SqliteSession session, string documentId, DateTimeOffset before, CancellationToken cancellationToken)
    {
        using SqliteTransaction transaction = session.Connection.BeginTransaction(deferred: false);
        if (Lock(session, transaction, documentId) is not { } existing)
        {
            return null;
        }

        SqliteCommand command = session.Command(SqliteStatements.TrimStart, transaction);
        SqliteRows.Bind(command, "$doc", existing.Doc);
        SqliteRows.BindTime(command, "$before", before);
        if (command.ExecuteScalar() is not long version)
        {
            return null; // max() of no rows is NULL
        }

        foreach (string sql in (ReadOnlySpan<string>)[SqliteStatements.DeleteOperationsBelow, SqliteStatements.DeleteMilestoneFragmentsBelow,
                                                      SqliteStatements.DeleteMilestonesBelow])
        {
            command = session.Command(sql, transaction);
            SqliteRows.Bind(command, "$doc", existing.Doc);
            SqliteRows.Bind(command, "$version", version);
            command.ExecuteNonQuery();
        }

        cancellationToken.ThrowIfCancellationRequested();
        transaction.Commit();
        return version;
    }

    private static (long Doc, long Version, string? Incarnation)? Lock(SqliteSession session, SqliteTransaction transaction, string documentId)
    {
        SqliteCommand command = session.Command(SqliteStatements.Lock, transaction);
        SqliteRows.Bind(command, "$id", documentId);
        using SqliteDataReader reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetInt64(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetString(2)) : null;
    }

    private static void WriteSnapshot(SqliteSession session, SqliteTransaction transaction, long doc, StoredSnapshot snapshot)
    {
        SqliteCommand command = session.Command(SqliteStatements.SetSnapshot, transaction);
        SqliteRows.Bind(command, "$doc", doc);
        SqliteRows.Bind(command, "$version", snapshot.Version);
        SqliteRows.Bind(command, "$type", snapshot.Type);
        command.ExecuteNonQuery();

        command = session.Command(SqliteStatements.DeleteSnapshotFragments, transaction);
        SqliteRows.Bind(command, "$doc", doc);
        command.ExecuteNonQuery();
        foreach ((string name, ReadOnlyMemory<byte> data) in snapshot.Fragments)
        {
            command = session.Command(SqliteStatements.InsertSnapshotFragment, transaction);
            SqliteRows.Bind(command, "$doc", doc);
            SqliteRows.Bind(command, "$name", name);
            SqliteRows.BindBlob(command, "$data", data);
            command.ExecuteNonQuery();
        }
    }

    private static void WriteMilestone(SqliteSession session, SqliteTransaction transaction, long doc, StoredSnapshot milestone)
    {
        foreach (string sql in (ReadOnlySpan<string>)[SqliteStatements.DeleteMilestoneFragmentsFrom, SqliteStatements.DeleteMilestonesFrom])
        {
            SqliteCommand delete = session.Command(sql, transaction);
            SqliteRows.Bind(delete, "$doc", doc);
            SqliteRows.Bind(delete, "$version", milestone.Version);
            delete.ExecuteNonQuery();
        }

        SqliteCommand command = session.Command(SqliteStatements.InsertMilestone, transaction);
        SqliteRows.Bind(command, "$doc", doc);
        SqliteRows.Bind(command, "$version", milestone.Version);
        SqliteRows.Bind(command, "$type", milestone.Type);
        SqliteRows.BindTime(command, "$time", milestone.Time);
        command.ExecuteNonQuery();
        foreach ((string name, ReadOnlyMemory<byte> data) in milestone.Fragments)
        {
            command = session.Command(SqliteStatements.InsertMilestoneFragment, transaction);
            SqliteRows.Bind(command, "$doc", doc);
            SqliteRows.Bind(command, "$version", milestone.Version);
            SqliteRows.Bind(command, "$name", name);
            SqliteRows.BindBlob(command, "$data", data);
            command.ExecuteNonQuery();
        }
    }
}
