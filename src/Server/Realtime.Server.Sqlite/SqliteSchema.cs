using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Realtime.Server.Sqlite;

/// <summary>
/// The store's tables, created and migrated by the store itself: the file's <c>PRAGMA user_version</c> is the schema version
/// it has (0: a new file), and each step of <see cref="Migrations"/> moves it one version up, in one transaction.
/// </summary>
internal static class SqliteSchema
{
    /// <summary>The schema version this code writes and reads.</summary>
    public const long CurrentVersion = 3;

    /// <summary>
    /// Version 1. A document's row (<c>documents</c>: its record, and the latest snapshot's version and type) is keyed by a
    /// rowid that the other tables use; the op log has one row per version; a snapshot or a milestone keeps one row per fragment.
    /// </summary>
    private const string Version1 = """
        CREATE TABLE documents (
            doc INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            version INTEGER NOT NULL,
            type TEXT NOT NULL,
            snapshot_version INTEGER,
            snapshot_type TEXT
        );
        CREATE TABLE operations (
            doc INTEGER NOT NULL,
            version INTEGER NOT NULL,
            source TEXT,
            sequence INTEGER NOT NULL,
            kind TEXT NOT NULL,
            payload BLOB NOT NULL,
            PRIMARY KEY (doc, version)
        );
        CREATE INDEX operations_by_source ON operations (doc, source, sequence);
        CREATE TABLE snapshot_fragments (
            doc INTEGER NOT NULL,
            name TEXT NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (doc, name)
        );
        CREATE TABLE milestones (
            doc INTEGER NOT NULL,
            version INTEGER NOT NULL,
            type TEXT NOT NULL,
            PRIMARY KEY (doc, version)
        );
        CREATE TABLE milestone_fragments (
            doc INTEGER NOT NULL,
            version INTEGER NOT NULL,
            name TEXT NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (doc, version, name)
        );
        """;

    /// <summary>
    /// Version 2: a milestone keeps when it was committed (<c>time</c>, Unix milliseconds UTC; null for a milestone written before,
    /// which retention never finds old enough), indexed with its document and version (a covering index for
    /// <see cref="SqliteStatements.TrimStart"/>).
    /// </summary>
    private const string Version2 = """
        ALTER TABLE milestones ADD COLUMN time INTEGER;
        CREATE INDEX milestones_by_time ON milestones (doc, time, version);
        """;

    /// <summary>
    /// Version 3: a document's row keeps its incarnation (<c>incarnation</c>: the one its create gave, <see cref="DocumentRecord.Incarnation"/>;
    /// null for a document created before, or by a create that gave none).
    /// </summary>
    private const string Version3 = """
        ALTER TABLE documents ADD COLUMN incarnation TEXT;
        """;

    /// <summary>The step from version <c>i</c> to <c>i + 1</c> is at index <c>i</c>. A new version adds a step; a step never changes.</summary>
    private static readonly string[] Migrations = [Version1, Version2, Version3];

    /// <summary>
    /// Puts the file in WAL mode and brings its schema to <see cref="CurrentVersion"/>; refuses a file written by a newer version of
    /// the store. Safe when several processes open the same new file at once: the version is read again under the write lock.
    /// </summary>
    /// <param name="connection">An open connection to the file.</param>
    /// <param name="path">The file, for messages.</param>
    /// <param name="target">The version to bring the file to: <see cref="CurrentVersion"/>, or an older one (for tests of the migration path).</param>
    /// <returns>The version the file had before (0 for a new file).</returns>
    public static long Migrate(SqliteConnection connection, string path, long target = CurrentVersion)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(target);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(target, CurrentVersion);
        string mode = Scalar(connection, null, "PRAGMA journal_mode = WAL")?.ToString() ?? "";
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"The document store '{path}' could not be put in WAL mode (journal mode: {mode}); it needs a local file system that supports WAL.");
        }

        long found = ReadVersion(connection, null, path);
        if (found >= target)
        {
            return found;
        }

        using SqliteTransaction transaction = connection.BeginTransaction(deferred: false); // BEGIN IMMEDIATE: one migrator at a time
        found = ReadVersion(connection, transaction, path);
        if (found >= target)
        {
            return found; // another process migrated it meanwhile
        }

        for (long version = found; version < target; version++)
        {
            Execute(connection, transaction, Migrations[version]);
        }

        // A pragma cannot take a bound parameter; the value is a version number of this code's.
        Execute(connection, transaction, "PRAGMA user_version = " + target.ToString(CultureInfo.InvariantCulture));
        transaction.Commit();
        return found;
    }

    /// <summary>The file's schema version; throws when it is newer than this code knows.</summary>
    public static long ReadVersion(SqliteConnection connection, SqliteTransaction? transaction, string path)
    {
        long version = Convert.ToInt64(Scalar(connection, transaction, "PRAGMA user_version"), CultureInfo.InvariantCulture);
        if (version > CurrentVersion)
        {
            throw new InvalidOperationException(
                $"The document store '{path}' has schema version {version}, newer than this version of Realtime.Server.Sqlite knows ({CurrentVersion}): "
                + "it was written by a newer release. Upgrade the application, or give it another file; the file was left as it is.");
        }

        if (version < 0)
        {
            throw new InvalidOperationException($"The document store '{path}' has schema version {version}: not a file this store wrote.");
        }

        return version;
    }

    private static object? Scalar(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
