using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Realtime.TestSupport;

namespace Realtime.Server.PostgreSql.Tests;

/// <summary>What the PostgreSQL store adds to the specification: races between stores (nodes), the schema, cancellation, registration.</summary>
[Collection(PostgresCollection.Name)]
[RequiresPostgres]
public sealed class PostgresDocumentStoreTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Two_stores_on_one_database_racing_a_commit_at_one_version_have_exactly_one_winner_each_time()
    {
        string schema = postgres.NewSchema();
        await using PostgresDocumentStore a = postgres.NewStore(schema);
        await using PostgresDocumentStore b = postgres.NewStore(schema);
        Assert.True(await a.CommitAsync("d", Commit(0, DocumentOperationKind.Create, "a", 0)));

        for (long version = 1; version <= 20; version++)
        {
            long v = version;
            bool[] won = await Task.WhenAll(
                Task.Run(async () => await a.CommitAsync("d", Commit(v, DocumentOperationKind.Op, "a", v))),
                Task.Run(async () => await b.CommitAsync("d", Commit(v, DocumentOperationKind.Op, "b", v)))).DefaultTimeout("both commits");
            Assert.Single(won, w => w);
        }

        Assert.Equal(21, (await b.GetRecordAsync("d"))!.Version);
        IReadOnlyList<DocumentOperation> log = await a.GetOperationsAsync("d", 0, null);
        Assert.Equal(Enumerable.Range(0, 21).Select(v => (long)v), log.Select(op => op.Version));

        // The snapshot is the winner's of the last version: the loser wrote nothing.
        StoredSnapshot snapshot = (await a.GetSnapshotAsync("d"))!;
        Assert.Equal(21, snapshot.Version);
        Assert.Equal($"\"{log[20].Source}\"", Encoding.UTF8.GetString(snapshot.Fragments[StoredSnapshot.DefaultFragment].Span));
    }

    [Fact]
    public async Task A_delete_racing_a_commit_at_the_same_version_leaves_exactly_one_of_them_done()
    {
        string schema = postgres.NewSchema();
        await using PostgresDocumentStore a = postgres.NewStore(schema);
        await using PostgresDocumentStore b = postgres.NewStore(schema);
        for (int round = 0; round < 10; round++)
        {
            string id = "d" + round;
            Assert.True(await a.CommitAsync(id, Commit(0, DocumentOperationKind.Create, "a", 0)));
            Task<bool> deleted = Task.Run(async () => await a.DeleteAsync(id, 1));
            Task<bool> committed = Task.Run(async () => await b.CommitAsync(id, Commit(1, DocumentOperationKind.Op, "b", 1)));
            await Task.WhenAll(deleted, committed).DefaultTimeout("the delete and the commit");
            Assert.NotEqual(await deleted, await committed);
            DocumentRecord? record = await b.GetRecordAsync(id);
            Assert.Equal(await committed ? 2 : null, record?.Version);
            Assert.Equal(await committed ? 2 : 0, (await b.GetOperationsAsync(id, 0, null)).Count);
        }
    }

    [Fact]
    public async Task A_commit_at_a_version_the_op_log_already_holds_is_refused_by_its_primary_key_and_writes_nothing()
    {
        string schema = postgres.NewSchema();
        await using PostgresDocumentStore store = postgres.NewStore(schema);
        Assert.True(await store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, "a", 0)));
        await postgres.ExecuteAsync($"INSERT INTO {schema}.realtime_operations (document, version, source, sequence, kind, payload) VALUES ('d', 1, 'x', 1, 0, '[]')");

        Assert.False(await store.CommitAsync("d", Commit(1, DocumentOperationKind.Op, "b", 1)));
        Assert.Equal(1, (await store.GetRecordAsync("d"))!.Version);
        Assert.Equal("\"a\"", Encoding.UTF8.GetString((await store.GetSnapshotAsync("d"))!.Fragments[StoredSnapshot.DefaultFragment].Span));
    }

    [Fact]
    public async Task Without_schema_creation_a_missing_table_is_a_clear_error_and_the_shipped_script_makes_the_store_work()
    {
        string schema = postgres.NewSchema();
        await using PostgresDocumentStore store = postgres.NewStore(schema, createSchema: false);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.GetRecordAsync("d"));
        Assert.Contains($"{schema}.realtime_schema", error.Message, StringComparison.Ordinal);
        Assert.Contains("CreateSchema", error.Message, StringComparison.Ordinal);
        Assert.Contains("GetSchemaScript", error.Message, StringComparison.Ordinal);

        // A team's migration: the schema, then the script for its names.
        await postgres.ExecuteAsync($"CREATE SCHEMA {schema}");
        await postgres.ExecuteAsync(PostgresDocumentStore.GetSchemaScript(new PostgresDocumentStoreOptions { Schema = schema }));
        Assert.True(await store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, "a", 0)));
        Assert.Equal(1, (await store.GetRecordAsync("d"))!.Version);
    }

    [Fact]
    public async Task The_shipped_script_is_the_default_schema_script_and_other_names_are_written_into_it()
    {
        string shipped = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "src", "Server", "Realtime.Server.PostgreSql", "Schema.sql"));
        Assert.Equal(shipped, PostgresDocumentStore.GetSchemaScript(null));

        string renamed = PostgresDocumentStore.GetSchemaScript(new PostgresDocumentStoreOptions { Schema = "docs", TablePrefix = "app_" });
        Assert.Contains("CREATE TABLE IF NOT EXISTS docs.app_operations", renamed, StringComparison.Ordinal);
        Assert.DoesNotContain("public.", renamed, StringComparison.Ordinal);
        Assert.DoesNotContain("realtime_", renamed, StringComparison.Ordinal);

        // A schema whose name holds the default prefix is not renamed again.
        string overlapping = PostgresDocumentStore.GetSchemaScript(new PostgresDocumentStoreOptions { Schema = "realtime_app", TablePrefix = "rt_" });
        Assert.Contains("CREATE TABLE IF NOT EXISTS realtime_app.rt_operations", overlapping, StringComparison.Ordinal);
        Assert.DoesNotContain("rt_app.", overlapping, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Public", "realtime_")]
    [InlineData("a-b", "realtime_")]
    [InlineData("", "realtime_")]
    [InlineData("public", "x; DROP TABLE y")]
    [InlineData("public", "1x_")]
    public void Names_that_are_not_lowercase_identifiers_are_refused(string schema, string prefix)
        => Assert.Throws<ArgumentException>(() => new PostgresDocumentStore("Host=127.0.0.1", new PostgresDocumentStoreOptions { Schema = schema, TablePrefix = prefix }));

    [Fact]
    public async Task Nodes_creating_the_tables_together_all_succeed_and_a_prefix_keeps_two_sets_apart()
    {
        string schema = postgres.NewSchema();
        PostgresDocumentStore[] stores = [.. Enumerable.Range(0, 4).Select(_ => postgres.NewStore(schema))];
        await using var other = new PostgresDocumentStore(postgres.ConnectionString, new PostgresDocumentStoreOptions { Schema = schema, TablePrefix = "other_" });
        try
        {
            await Task.WhenAll(stores.Select(s => s.InitializeAsync().AsTask())).DefaultTimeout("the tables to be created");
            Assert.True(await stores[0].CommitAsync("d", Commit(0, DocumentOperationKind.Create, "a", 0)));
            Assert.Equal(1, (await stores[3].GetRecordAsync("d"))!.Version);
            Assert.Null(await other.GetRecordAsync("d"));
        }
        finally
        {
            foreach (PostgresDocumentStore store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_schema_newer_than_the_store_is_refused()
    {
        string schema = postgres.NewSchema();
        await using (PostgresDocumentStore creator = postgres.NewStore(schema))
        {
            await creator.InitializeAsync();
        }

        await postgres.ExecuteAsync($"INSERT INTO {schema}.realtime_schema (version) VALUES ({PostgresStatements.SchemaVersion + 1})");
        await using PostgresDocumentStore store = postgres.NewStore(schema);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.InitializeAsync());
        Assert.Contains("newer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_version_2_schema_is_upgraded_to_3_on_first_use_keeping_its_records_without_an_incarnation()
    {
        string schema = postgres.NewSchema();
        await using (PostgresDocumentStore creator = postgres.NewStore(schema))
        {
            Assert.True(await creator.CommitAsync("d", Commit(0, DocumentOperationKind.Create, "a", 0)));
            Assert.True(await creator.CommitAsync("d", Commit(1, DocumentOperationKind.Op, "a", 1)));
        }

        // What schema version 2 made: records without an incarnation.
        await postgres.ExecuteAsync($"ALTER TABLE {schema}.realtime_documents DROP COLUMN incarnation");
        await postgres.ExecuteAsync($"DELETE FROM {schema}.realtime_schema WHERE version > 2");

        // Without schema creation, the store refuses the older tables and says what to do.
        await using (PostgresDocumentStore migrating = postgres.NewStore(schema, createSchema: false))
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await migrating.InitializeAsync());
            Assert.Contains("run the schema script again", error.Message, StringComparison.Ordinal);
        }

        // With it (the default), the store's first use upgrades them, keeping the records, which have no incarnation.
        await using PostgresDocumentStore store = postgres.NewStore(schema);
        await store.InitializeAsync();
        Assert.Equal(3, PostgresStatements.SchemaVersion);
        Assert.Equal(PostgresStatements.SchemaVersion, await postgres.ScalarAsync<int>($"SELECT max(version) FROM {schema}.realtime_schema"));
        Assert.Equal(new DocumentRecord(2, "t"), await store.GetRecordAsync("d"));
        Assert.Equal(2, (await store.GetOperationsAsync("d", 0, null)).Count);
        Assert.True(await store.CommitAsync("d", Commit(2, DocumentOperationKind.Op, "a", 2) with { Incarnation = "ignored" }));
        Assert.Null((await store.GetRecordAsync("d"))!.Incarnation);

        // Documents created after the upgrade keep their create's incarnation.
        Assert.True(await store.CommitAsync("e", Commit(0, DocumentOperationKind.Create, "a", 3) with { Incarnation = "e1" }));
        Assert.Equal(new DocumentRecord(1, "t") { Incarnation = "e1" }, await store.GetRecordAsync("e"));

        // Running the shipped script on upgraded tables changes nothing.
        await postgres.ExecuteAsync(PostgresDocumentStore.GetSchemaScript(new PostgresDocumentStoreOptions { Schema = schema }));
        Assert.Equal("e1", (await store.GetRecordAsync("e"))!.Incarnation);
        Assert.Equal(new DocumentRecord(3, "t"), await store.GetRecordAsync("d"));
    }

    [Fact]
    public async Task A_commit_waiting_on_a_locked_record_is_cancelled_by_its_token_and_writes_nothing()
    {
        string schema = postgres.NewSchema();
        await using PostgresDocumentStore store = postgres.NewStore(schema);
        Assert.True(await store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, "a", 0)));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await store.GetRecordAsync("d", new CancellationToken(canceled: true)));

        // Another session holds the record's row: the commit waits on it until its token is cancelled.
        string table = $"{schema}.realtime_documents";
        await using var connection = new NpgsqlConnection(postgres.ConnectionString);
        await connection.OpenAsync();
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand($"SELECT 1 FROM {table} WHERE id = 'd' FOR UPDATE", connection, transaction))
        {
            await lockRow.ExecuteScalarAsync();
        }

        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await store.CommitAsync("d", Commit(1, DocumentOperationKind.Op, "b", 1), cancel.Token))
            .DefaultTimeout("the commit to be cancelled");
        await transaction.RollbackAsync();

        Assert.Equal(1, (await store.GetRecordAsync("d"))!.Version);
        Assert.Single(await store.GetOperationsAsync("d", 0, null));
        Assert.True(await store.CommitAsync("d", Commit(1, DocumentOperationKind.Op, "c", 1)));
    }

    [Fact]
    public async Task AddPostgresDocumentStore_registers_the_store_as_the_applications_document_store_replacing_an_earlier_one()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<DocumentStore>(new InMemoryDocumentStore());
        string schema = postgres.NewSchema();
        services.AddRealtime().AddPostgresDocumentStore(postgres.ConnectionString, o => o.Schema = schema);
        await using ServiceProvider provider = services.BuildServiceProvider();

        var store = Assert.IsType<PostgresDocumentStore>(Assert.Single(provider.GetServices<DocumentStore>()));
        Assert.True(await store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, "a", 0)));
        Assert.Throws<ArgumentException>(() => services.AddRealtime().AddPostgresDocumentStore(postgres.ConnectionString, o => o.TablePrefix = "Bad"));
    }

    [Fact]
    public async Task The_health_check_is_healthy_with_the_database_and_degraded_without_its_tables()
    {
        foreach ((bool create, HealthStatus expected) in new[] { (true, HealthStatus.Healthy), (false, HealthStatus.Degraded) })
        {
            var services = new ServiceCollection();
            services.AddLogging();
            string schema = postgres.NewSchema();
            services.AddRealtime().AddPostgresDocumentStore(postgres.ConnectionString, o => (o.Schema, o.CreateSchema) = (schema, create));
            await using ServiceProvider provider = services.BuildServiceProvider();

            HealthReport report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
            Assert.Equal(expected, report.Entries["realtime-postgres"].Status);
        }
    }

    /// <summary>A commit at <paramref name="version"/> by <paramref name="source"/>, whose snapshot is the source's name.</summary>
    private static DocumentCommit Commit(long version, DocumentOperationKind kind, string source, long sequence)
    {
        byte[] payload = Encoding.UTF8.GetBytes(kind == DocumentOperationKind.Create ? """{"type":"t","data":null}""" : "[1]");
        var snapshot = new StoredSnapshot(version + 1, "t", new Dictionary<string, ReadOnlyMemory<byte>> { [StoredSnapshot.DefaultFragment] = Encoding.UTF8.GetBytes($"\"{source}\"") });
        return new DocumentCommit(new DocumentOperation(version, source, sequence, kind, payload), "t", snapshot, null);
    }
}
