using System.Text;
using Microsoft.Data.Sqlite;

using static Realtime.Server.Sqlite.Tests.SqliteCommands;

namespace Realtime.Server.Sqlite.Tests;

/// <summary>
/// What the SQLite store adds to the specification for retention: a milestone's time is kept in its file to the millisecond, a
/// version-1 file is migrated and keeps its documents, and a trim reads and removes by the document's own keys.
/// </summary>
public sealed class SqliteRetentionTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly TempDatabase _database = new();

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task A_version_1_file_is_migrated_through_version_2_keeps_its_documents_and_its_untimed_milestones_are_never_old_enough()
    {
        using (SqliteConnection connection = Open())
        {
            // A file as the store of schema version 1 wrote it: a document at version 3, a milestone at 1, the snapshot at 3.
            Assert.Equal(0L, SqliteSchema.Migrate(connection, _database.File, target: 1));
            Execute(connection, """
                INSERT INTO documents (doc, id, version, type, snapshot_version, snapshot_type) VALUES (1, 'd', 3, 't', 3, 't');
                INSERT INTO operations (doc, version, source, sequence, kind, payload) VALUES
                    (1, 0, 's', 1, 'create', x'7B7D'), (1, 1, 's', 2, 'op', x'5B5D'), (1, 2, 's', 3, 'op', x'5B5D');
                INSERT INTO snapshot_fragments (doc, name, data) VALUES (1, 'default', CAST('"3"' AS BLOB));
                INSERT INTO milestones (doc, version, type) VALUES (1, 1, 't');
                INSERT INTO milestone_fragments (doc, version, name, data) VALUES (1, 1, 'default', CAST('"1"' AS BLOB));
                """);
            Assert.Equal(1L, Scalar(connection, "PRAGMA user_version"));
        }

        using (var store = new SqliteDocumentStore(_database.File))
        {
            Assert.Equal(new DocumentRecord(3, "t"), await store.GetRecordAsync("d"));
            Assert.Equal("\"3\"", Text((await store.GetSnapshotAsync("d"))!.Fragments["default"]));
            Assert.Equal([0L, 1L, 2L], (await store.GetOperationsAsync("d", 0, null)).Select(op => op.Version));
            Assert.Equal(2L, (await store.FindOperationAsync("d", "s", 3))?.Version);
            StoredSnapshot old = (await store.GetMilestoneAsync("d", 2))!;
            Assert.Equal((1L, "\"1\"", (DateTimeOffset?)null), (old.Version, Text(old.Fragments["default"]), old.Time));

            Assert.Null(await store.TrimAsync("d", DateTimeOffset.MaxValue)); // a milestone of unknown time is never old enough
            Assert.Equal(3, (await store.GetOperationsAsync("d", 0, null)).Count);

            // A milestone written after the migration has a time; trimming to it removes the untimed one below it.
            Assert.True(await store.CommitAsync("d", Commit(3, "\"4\"", Start)));
            Assert.True(await store.CommitAsync("d", Commit(4, "\"5\"", null)));
            Assert.Equal(4, await store.TrimAsync("d", Start));
            Assert.Equal([4L], (await store.GetOperationsAsync("d", 0, null)).Select(op => op.Version));
            Assert.Null(await store.GetMilestoneAsync("d", 3));
        }

        using (SqliteConnection connection = Open())
        {
            Assert.Equal(SqliteSchema.CurrentVersion, Scalar(connection, "PRAGMA user_version"));
            Assert.Contains("milestones_by_time", Rows(connection, "SELECT name FROM sqlite_schema WHERE type = 'index'"));
        }
    }

    [Fact]
    public async Task A_milestones_time_is_kept_to_the_millisecond_in_UTC_across_reopening()
    {
        DateTimeOffset time = new DateTimeOffset(2026, 12, 1, 10, 30, 0, 123, TimeSpan.FromHours(2)).AddTicks(4567);
        DateTimeOffset kept = new(2026, 12, 1, 8, 30, 0, 123, TimeSpan.Zero);
        using (var store = new SqliteDocumentStore(_database.File))
        {
            Assert.True(await store.CommitAsync("d", Commit(0, "0", time)));
        }

        using (var reopened = new SqliteDocumentStore(_database.File))
        {
            DateTimeOffset? read = (await reopened.GetMilestoneAsync("d", 1))!.Time;
            Assert.Equal(kept, read);
            Assert.Equal(TimeSpan.Zero, read!.Value.Offset);
            Assert.Null(await reopened.TrimAsync("d", kept.AddMilliseconds(-1)));
            Assert.Equal(1, await reopened.TrimAsync("d", kept));
        }
    }

    [Fact]
    public async Task Trimming_one_document_leaves_the_others_and_a_cancelled_trim_removes_nothing()
    {
        using var store = new SqliteDocumentStore(_database.File);
        foreach (string id in (string[])["a", "b"])
        {
            for (long v = 0; v < 6; v++)
            {
                Assert.True(await store.CommitAsync(id, Commit(v, $"{v + 1}", v % 2 == 1 ? Start.AddMinutes(v) : null)));
            }
        }

        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await store.TrimAsync("a", Start.AddDays(1), cancelled.Token));
        Assert.Equal(6, (await store.GetOperationsAsync("a", 0, null)).Count);

        Assert.Equal(4, await store.TrimAsync("a", Start.AddMinutes(3))); // milestones at 2 (1 min) and 4 (3 min); 6 (5 min) is too new
        Assert.Equal([4L, 5L], (await store.GetOperationsAsync("a", 0, null)).Select(op => op.Version));
        Assert.Equal(6, (await store.GetOperationsAsync("b", 0, null)).Count);
        Assert.Equal(2, (await store.GetMilestoneAsync("b", 3))!.Version);
        Assert.Null(await store.GetMilestoneAsync("a", 3));
    }

    [Fact]
    public void A_trim_finds_its_milestone_by_the_time_index_and_removes_by_key_ranges_of_the_document()
    {
        using var store = new SqliteDocumentStore(_database.File);
        SqliteSession session = store.Pool.Rent();
        try
        {
            List<string> start = Plan(session, SqliteStatements.TrimStart, ("$doc", 1L), ("$before", 0L));
            Assert.Contains(start,
                            step => step.Contains("USING COVERING INDEX milestones_by_time (doc=? AND time<?)", StringComparison.Ordinal));
            foreach (string delete in (string[])[SqliteStatements.DeleteOperationsBelow, SqliteStatements.DeleteMilestonesBelow,
                                                 SqliteStatements.DeleteMilestoneFragmentsBelow])
            {
                List<string> plan = Plan(session, delete, ("$doc", 1L), ("$version", 5L));
                Assert.Contains(plan, step => step.StartsWith("SEARCH", StringComparison.Ordinal) && step.Contains("(doc=? AND version<?)", StringComparison.Ordinal));
                Assert.DoesNotContain(plan, step => step.StartsWith("SCAN", StringComparison.Ordinal));
            }
        }
        finally
        {
            store.Pool.Return(session);
        }
    }

    private static List<string> Plan(SqliteSession session, string sql, params (string Name, object Value)[] parameters)
    {
        SqliteCommand command = session.Command("EXPLAIN QUERY PLAN " + sql);
        foreach ((string name, object value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        using SqliteDataReader reader = command.ExecuteReader();
        var plan = new List<string>();
        while (reader.Read())
        {
            plan.Add(reader.GetString(3));
        }

        return plan;
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _database.File, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    /// <summary>The op at <paramref name="version"/> with the snapshot after it, and with a time a milestone of that snapshot.</summary>
    private static DocumentCommit Commit(long version, string snapshot, DateTimeOffset? milestoneTime)
    {
        var stored = new StoredSnapshot(version + 1, "t", new Dictionary<string, ReadOnlyMemory<byte>> { ["default"] = Utf8(snapshot) }) { Time = milestoneTime };
        var operation = new DocumentOperation(version, "s", version + 1, version == 0 ? DocumentOperationKind.Create : DocumentOperationKind.Op, Utf8("[]"));
        return new DocumentCommit(operation, "t", stored, milestoneTime is null ? null : stored);
    }

    private static ReadOnlyMemory<byte> Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static string Text(ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);
}
