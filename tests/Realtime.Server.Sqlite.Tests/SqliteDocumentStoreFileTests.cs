using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Xunit.Abstractions;

using static Realtime.Server.Sqlite.Tests.SqliteCommands;

namespace Realtime.Server.Sqlite.Tests;

/// <summary>What the SQLite store does with its file: it survives reopening, carries its schema version (and is migrated from an older one), runs in WAL mode.</summary>
public sealed class SqliteDocumentStoreFileTests : IDisposable
{
    private readonly TempDatabase _database = new();

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task Documents_survive_disposing_and_reopening_the_store()
    {
        using (var store = new SqliteDocumentStore(_database.File))
        {
            Assert.True(await store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, "{}", milestone: true)));
            Assert.True(await store.CommitAsync("d", new DocumentCommit(Op(1, "[1]", "b", 7), "t",
                new StoredSnapshot(2, "t", new Dictionary<string, ReadOnlyMemory<byte>> { ["default"] = Utf8("{\"a\":1}"), ["side"] = Utf8("[]") }), null)));
            Assert.True(await store.CommitAsync("e", Commit(0, DocumentOperationKind.Create, "5")));
        }

        using (var reopened = new SqliteDocumentStore(_database.File))
        {
            Assert.Equal(new DocumentRecord(2, "t"), await reopened.GetRecordAsync("d"));
            StoredSnapshot snapshot = (await reopened.GetSnapshotAsync("d"))!;
            Assert.Equal((2L, "{\"a\":1}", "[]"), (snapshot.Version, Text(snapshot.Fragments["default"]), Text(snapshot.Fragments["side"])));
            Assert.Equal([0L, 1L], (await reopened.GetOperationsAsync("d", 0, null)).Select(op => op.Version));
            Assert.Equal(1L, (await reopened.FindOperationAsync("d", "b", 7))?.Version);
            Assert.Equal("{}", Text((await reopened.GetMilestoneAsync("d", 5))!.Fragments["default"]));
            Assert.Equal(new DocumentRecord(1, "t"), await reopened.GetRecordAsync("e"));
        }
    }

    [Fact]
    public async Task A_version_2_file_is_migrated_to_version_3_keeps_its_documents_without_an_incarnation_and_a_new_create_gives_one()
    {
        using (SqliteConnection connection = Open())
        {
            // A file as the store of schema version 2 wrote it: "d" at version 2 (a timed milestone at 1, the snapshot at 2), "e" at 1.
            Assert.Equal(0L, SqliteSchema.Migrate(connection, _database.File, target: 2));
            Execute(connection, """
                INSERT INTO documents (doc, id, version, type, snapshot_version, snapshot_type) VALUES (1, 'd', 2, 't', 2, 't'), (2, 'e', 1, 't', 1, 't');
                INSERT INTO operations (doc, version, source, sequence, kind, payload) VALUES
                    (1, 0, 's', 1, 'create', x'7B7D'), (1, 1, 's', 2, 'op', x'5B5D'), (2, 0, 's', 1, 'create', x'35');
                INSERT INTO snapshot_fragments (doc, name, data) VALUES (1, 'default', CAST('"2"' AS BLOB)), (2, 'default', CAST('5' AS BLOB));
                INSERT INTO milestones (doc, version, type, time) VALUES (1, 1, 't', 1000);
                INSERT INTO milestone_fragments (doc, version, name, data) VALUES (1, 1, 'default', CAST('"1"' AS BLOB));
                """);
            Assert.Equal(2L, Scalar(connection, "PRAGMA user_version"));
        }

        using (var store = new SqliteDocumentStore(_database.File))
        {
            DocumentRecord record = (await store.GetRecordAsync("d"))!;
            Assert.Equal((2L, "t", (string?)null), (record.Version, record.Type, record.Incarnation));
            Assert.Null((await store.GetRecordAsync("e"))!.Incarnation);
            Assert.Equal("\"2\"", Text((await store.GetSnapshotAsync("d"))!.Fragments["default"]));
            Assert.Equal([0L, 1L], (await store.GetOperationsAsync("d", 0, null)).Select(op => op.Version));
            Assert.Equal(1L, (await store.FindOperationAsync("d", "s", 2))?.Version);
            StoredSnapshot milestone = (await store.GetMilestoneAsync("d", 1))!;
            Assert.Equal((1L, "\"1\"", (DateTimeOffset?)DateTimeOffset.FromUnixTimeMilliseconds(1000)),
                         (milestone.Version, Text(milestone.Fragments["default"]), milestone.Time));

            // A commit after the migration keeps the record's (null) incarnation; a create after a delete gives one.
            Assert.True(await store.CommitAsync("d", Commit(2, DocumentOperationKind.Op, "\"3\"", sequence: 3) with { Incarnation = "ignored" }));
            Assert.Equal(new DocumentRecord(3, "t"), await store.GetRecordAsync("d"));
            Assert.True(await store.DeleteAsync("e", 1));
            Assert.True(await store.CommitAsync("e", Commit(0, DocumentOperationKind.Create, "6") with { Incarnation = "e2" }));
            Assert.Equal("e2", (await store.GetRecordAsync("e"))!.Incarnation);
        }

        using (SqliteConnection connection = Open())
        {
            Assert.Equal(3L, Scalar(connection, "PRAGMA user_version"));
            Assert.Contains("incarnation", Rows(connection, "SELECT name FROM pragma_table_info('documents')"));
        }
    }

    [Fact]
    public void The_file_is_in_WAL_mode_carries_the_schema_version_and_each_connection_syncs_every_commit()
    {
        using (var store = new SqliteDocumentStore(_database.File))
        {
            Assert.Equal(Path.GetFullPath(_database.File), store.Path);
            Assert.Equal(SqliteSynchronous.Full, store.Synchronous);
            Assert.Equal(2L, Pragma(store, "synchronous")); // FULL
        }

        using var connection = Open();
        Assert.Equal("wal", Scalar(connection, "PRAGMA journal_mode"));
        Assert.Equal(SqliteSchema.CurrentVersion, Scalar(connection, "PRAGMA user_version"));
        Assert.Equal(["documents", "milestone_fragments", "milestones", "operations", "snapshot_fragments"],
                     Rows(connection, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name"));
        Assert.Equal(["milestones_by_time", "operations_by_source"],
                     Rows(connection, "SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name"));
    }

    [Fact]
    public void A_resent_op_is_looked_up_by_the_index_on_document_source_and_sequence()
    {
        using var store = new SqliteDocumentStore(_database.File);
        SqliteSession session = store.Pool.Rent();
        try
        {
            SqliteCommand command = session.Command("EXPLAIN QUERY PLAN " + SqliteStatements.FindOperation);
            command.Parameters.AddWithValue("$id", "d");
            command.Parameters.AddWithValue("$source", "s");
            command.Parameters.AddWithValue("$sequence", 1);
            using SqliteDataReader reader = command.ExecuteReader();
            var plan = new List<string>();
            while (reader.Read())
            {
                plan.Add(reader.GetString(3));
            }

            Assert.Contains(plan, step => step.Contains("USING INDEX operations_by_source (doc=? AND source=? AND sequence=?)", StringComparison.Ordinal));
        }
        finally
        {
            store.Pool.Return(session);
        }
    }

    [Fact]
    public async Task A_disposed_store_refuses_calls()
    {
        var store = new SqliteDocumentStore(_database.File);
        store.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.GetRecordAsync("d"));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, "0")));
    }

    [Fact]
    public void Synchronous_normal_is_one_option_away()
    {
        using var store = new SqliteDocumentStore(_database.File, new SqliteDocumentStoreOptions { Synchronous = SqliteSynchronous.Normal }, null);
        Assert.Equal(1L, Pragma(store, "synchronous")); // NORMAL
    }

    [Fact]
    public async Task A_file_with_a_newer_schema_version_is_refused_and_left_as_it_is()
    {
        using (var store = new SqliteDocumentStore(_database.File))
        {
            Assert.True(await store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, "1")));
        }

        using (SqliteConnection connection = Open())
        {
            Execute(connection, $"PRAGMA user_version = {SqliteSchema.CurrentVersion + 1}");
        }

        var refused = Assert.Throws<InvalidOperationException>(() => new SqliteDocumentStore(_database.File));
        Assert.Contains($"schema version {SqliteSchema.CurrentVersion + 1}, newer than", refused.Message, StringComparison.Ordinal);
        using (SqliteConnection connection = Open())
        {
            Assert.Equal(SqliteSchema.CurrentVersion + 1, Scalar(connection, "PRAGMA user_version"));
            Assert.Equal(1L, Scalar(connection, "SELECT count(*) FROM operations"));
        }
    }

    [Fact]
    public void A_file_that_is_not_a_database_is_refused()
    {
        File.WriteAllText(_database.File, "not a database, but long enough to have a header that SQLite reads and refuses.".PadRight(512, '.'));
        Assert.Throws<SqliteException>(() => new SqliteDocumentStore(_database.File));
    }

    [Fact]
    public async Task Stores_opening_one_new_file_at_once_all_open_it_and_share_its_documents()
    {
        // As apps of one machine starting together on the same file: one creates the schema, the others wait for it and find it.
        SqliteDocumentStore[] stores = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => new SqliteDocumentStore(_database.File))));
        try
        {
            Assert.True(await stores[0].CommitAsync("d", Commit(0, DocumentOperationKind.Create, "0")));
            Assert.False(await stores[1].CommitAsync("d", Commit(0, DocumentOperationKind.Create, "1"))); // the compare-and-set spans stores
            Assert.All(await Task.WhenAll(stores.Select(s => s.GetRecordAsync("d").AsTask())), r => Assert.Equal(new DocumentRecord(1, "t"), r));
        }
        finally
        {
            foreach (SqliteDocumentStore store in stores)
            {
                store.Dispose();
            }
        }
    }

    [Fact]
    public async Task Ids_and_sources_are_bound_as_values_never_read_as_SQL()
    {
        using var store = new SqliteDocumentStore(_database.File);
        const string id = "x'); DROP TABLE documents; --";
        Assert.True(await store.CommitAsync(id, Commit(0, DocumentOperationKind.Create, "1", source: "'\"; --")));
        Assert.Equal(new DocumentRecord(1, "t"), await store.GetRecordAsync(id));
        Assert.Equal(0L, (await store.FindOperationAsync(id, "'\"; --", 1))?.Version);
        Assert.Null(await store.GetRecordAsync("x"));
    }

    [Fact]
    public async Task A_cancelled_call_reads_or_writes_nothing()
    {
        using var store = new SqliteDocumentStore(_database.File);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, "1"), cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await store.GetRecordAsync("d", cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await store.DeleteAsync("d", 0, cancelled.Token));
        Assert.Null(await store.GetRecordAsync("d"));
    }

    [Fact]
    public async Task Readers_on_other_connections_see_every_commit_while_one_writer_appends()
    {
        using var store = new SqliteDocumentStore(_database.File);
        Assert.True(await store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, "0")));
        Task writing = Task.Run(async () =>
        {
            for (long v = 1; v < 200; v++)
            {
                Assert.True(await store.CommitAsync("d", Commit(v, DocumentOperationKind.Op, $"{v}", source: "w", sequence: v)));
            }
        });
        Task[] reading = [.. Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!writing.IsCompleted)
            {
                // What a reader sees is one committed state: the log reaches at least the version the record had just before.
                long version = (await store.GetRecordAsync("d"))!.Version;
                Assert.True((await store.GetOperationsAsync("d", 0, null)).Count >= version);
                StoredSnapshot snapshot = (await store.GetSnapshotAsync("d"))!;
                Assert.Equal($"{snapshot.Version - 1}", Text(snapshot.Fragments["default"]));
            }
        }))];
        await Task.WhenAll([writing, .. reading]).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(200, (await store.GetOperationsAsync("d", 0, null)).Count);
    }

    [Fact]
    public void AddSqliteDocumentStore_registers_the_store_with_a_relative_path_taken_from_the_content_root()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IHostEnvironment>(new HostingEnvironment { ContentRootPath = _database.Folder });
        services.AddRealtime().Services.AddSingleton<DocumentStore>(new InMemoryDocumentStore());
        services.AddRealtime().AddSqliteDocumentStore(Path.Combine("data", "docs.db"), o => o.Synchronous = SqliteSynchronous.Normal);
        using ServiceProvider provider = services.BuildServiceProvider();

        var store = Assert.IsType<SqliteDocumentStore>(provider.GetRequiredService<DocumentStore>()); // the earlier registration replaced
        Assert.Equal(Path.Combine(_database.Folder, "data", "docs.db"), store.Path);
        Assert.Equal(SqliteSynchronous.Normal, store.Synchronous);
        Assert.True(File.Exists(store.Path));
    }

    private static long Pragma(SqliteDocumentStore store, string name)
    {
        // A connection of the store's own pool, as a call gets it.
        SqliteSession session = store.Pool.Rent();
        try
        {
            return (long)Scalar(session.Connection, "PRAGMA " + name)!;
        }
        finally
        {
            store.Pool.Return(session);
        }
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _database.File, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private static DocumentOperation Op(long version, string payload, string? source = "s", long sequence = 1,
                                        DocumentOperationKind kind = DocumentOperationKind.Op)
        => new(version, source, sequence, kind, Utf8(payload));

    private static DocumentCommit Commit(long version, DocumentOperationKind kind, string snapshot, string? source = "s", long sequence = 1, bool milestone = false)
    {
        var stored = new StoredSnapshot(version + 1, "t", new Dictionary<string, ReadOnlyMemory<byte>> { ["default"] = Utf8(snapshot) });
        return new DocumentCommit(Op(version, "[]", source, sequence, kind), "t", stored, milestone ? stored : null);
    }

    private static ReadOnlyMemory<byte> Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static string Text(ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);
}
