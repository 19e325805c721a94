using System.Text;
using Npgsql;
using Realtime.TestSupport;

namespace Realtime.Server.PostgreSql.Tests;

/// <summary>What the PostgreSQL store adds to the specification for retention: the milestones' time column, its upgrade from schema
/// version 1, and trims racing commits.</summary>
[Collection(PostgresCollection.Name)]
[RequiresPostgres]
public sealed class PostgresRetentionTests(PostgresFixture postgres)
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_version_1_schema_is_upgraded_on_first_use_and_its_milestones_without_a_time_are_never_trimmed_from()
    {
        string schema = postgres.NewSchema();
        await using (PostgresDocumentStore creator = postgres.NewStore(schema))
        {
            Assert.True(await creator.CommitAsync("d", Commit(0, DocumentOperationKind.Create, milestoneAt: Start)));
            Assert.True(await creator.CommitAsync("d", Commit(1, DocumentOperationKind.Op, milestoneAt: Start)));
        }

        await MakeVersion1Async(schema);

        // Without schema creation, the store refuses the older tables and says what to do.
        await using (PostgresDocumentStore migrating = postgres.NewStore(schema, createSchema: false))
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await migrating.InitializeAsync());
            Assert.Contains("run the schema script again", error.Message, StringComparison.Ordinal);
        }

        // With it (the default), the store's first use upgrades them, keeping what is there.
        await using PostgresDocumentStore store = postgres.NewStore(schema);
        await store.InitializeAsync();
        Assert.Equal(PostgresStatements.SchemaVersion, await postgres.ScalarAsync<int>($"SELECT max(version) FROM {schema}.realtime_schema"));
        Assert.Equal(new DocumentRecord(2, "t"), await store.GetRecordAsync("d"));
        StoredSnapshot old = (await store.GetMilestoneAsync("d", 1))!;
        Assert.Equal(1, old.Version);
        Assert.Null(old.Time);
        Assert.Null(await store.TrimAsync("d", Start.AddYears(1)));
        Assert.Equal(2, (await store.GetOperationsAsync("d", 0, null)).Count);

        // Milestones written after the upgrade have their time, and history is trimmed from them.
        Assert.True(await store.CommitAsync("d", Commit(2, DocumentOperationKind.Op, milestoneAt: Start.AddHours(1))));
        Assert.Equal(Start.AddHours(1), (await store.GetMilestoneAsync("d", 3))!.Time);
        Assert.Equal(3, await store.TrimAsync("d", Start.AddHours(2)));
        Assert.Empty(await store.GetOperationsAsync("d", 0, null));
        Assert.Null(await store.GetMilestoneAsync("d", 2));

        // Running the shipped script on upgraded tables changes nothing.
        await postgres.ExecuteAsync(PostgresDocumentStore.GetSchemaScript(new PostgresDocumentStoreOptions { Schema = schema }));
        Assert.Equal(Start.AddHours(1), (await store.GetMilestoneAsync("d", 3))!.Time);
    }

    [Fact]
    public async Task Running_the_script_on_current_tables_waits_for_no_reader_of_them()
    {
        string schema = postgres.NewSchema();
        await using (PostgresDocumentStore creator = postgres.NewStore(schema))
        {
            await creator.InitializeAsync();
        }

        // A long reader (a backup, say) holds its lock on the milestones: a node starting meanwhile is not held up by it.
        await using var reader = new NpgsqlConnection(postgres.ConnectionString);
        await reader.OpenAsync();
        await using NpgsqlTransaction transaction = await reader.BeginTransactionAsync();
        await using (var read = new NpgsqlCommand($"LOCK TABLE {schema}.realtime_milestones IN ACCESS SHARE MODE", reader, transaction))
        {
            await read.ExecuteNonQueryAsync();
        }

        await using PostgresDocumentStore store = postgres.NewStore(schema);
        await store.InitializeAsync().AsTask().DefaultTimeout("the store to start beside the reader");
        Assert.True(await store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, milestoneAt: Start)));
    }

    [Fact]
    public async Task A_time_at_another_offset_is_kept_as_the_same_instant_to_the_microsecond()
    {
        await using PostgresDocumentStore store = postgres.NewStore();
        var time = new DateTimeOffset(2026, 12, 1, 9, 30, 15, TimeSpan.FromHours(2)).AddTicks(1234567);
        Assert.True(await store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, milestoneAt: time)));

        DateTimeOffset kept = (await store.GetMilestoneAsync("d", 1))!.Time!.Value;
        Assert.Equal(time.AddTicks(-7), kept); // 123456.7 µs: the tenth of a microsecond is dropped
        Assert.Null(await store.TrimAsync("d", kept.AddTicks(-10)));
        Assert.Equal(1, await store.TrimAsync("d", time));
    }

    [Fact]
    public async Task Trimming_one_document_leaves_another_with_the_same_prefix_untouched()
    {
        await using PostgresDocumentStore store = postgres.NewStore();
        foreach (string id in new[] { "d", "d2", "e" })
        {
            Assert.True(await store.CommitAsync(id, Commit(0, DocumentOperationKind.Create, milestoneAt: Start)));
            Assert.True(await store.CommitAsync(id, Commit(1, DocumentOperationKind.Op, milestoneAt: Start)));
        }

        Assert.Equal(2, await store.TrimAsync("d", Start));
        Assert.Empty(await store.GetOperationsAsync("d", 0, null));
        foreach (string id in new[] { "d2", "e" })
        {
            Assert.Equal(2, (await store.GetOperationsAsync(id, 0, null)).Count);
            Assert.Equal(1, (await store.GetMilestoneAsync(id, 1))!.Version);
        }
    }

    [Fact]
    public async Task Trims_racing_commits_on_the_same_document_from_another_store_lose_no_commit_and_keep_the_log_from_their_milestone()
    {
        string schema = postgres.NewSchema();
        await using PostgresDocumentStore committer = postgres.NewStore(schema);
        await using PostgresDocumentStore trimmer = postgres.NewStore(schema);
        Assert.True(await committer.CommitAsync("d", Commit(0, DocumentOperationKind.Create, milestoneAt: Start)));

        // Every commit writes a milestone, a second apart; the trimmer keeps trimming up to where the committer has got. Halfway, the
        // committer waits for a trim to have been done, so that the two overlap.
        const int Versions = 60;
        var committed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var trimmedOnce = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task commits = Task.Run(async () =>
        {
            for (long v = 1; v < Versions; v++)
            {
                Assert.True(await committer.CommitAsync("d", Commit(v, DocumentOperationKind.Op, milestoneAt: Start.AddSeconds(v))));
                if (v == Versions / 2)
                {
                    await trimmedOnce.Task.DefaultTimeout("a trim");
                }
            }

            committed.SetResult();
        });
        Task<List<long>> trims = Task.Run(async () =>
        {
            var kept = new List<long>();
            while (!committed.Task.IsCompleted)
            {
                if (await trimmer.TrimAsync("d", Start.AddSeconds(Versions)) is { } version)
                {
                    kept.Add(version);
                    trimmedOnce.TrySetResult();
                }
            }

            return kept;
        });
        await Task.WhenAll(commits, trims).DefaultTimeout("the commits and the trims");

        // The trims went forward, each kept its milestone and the log from it on, and every commit is there.
        List<long> versions = await trims;
        Assert.Equal(versions.Order(), versions);
        Assert.Equal(new DocumentRecord(Versions, "t"), await trimmer.GetRecordAsync("d"));
        Assert.NotEmpty(versions);
        long first = versions[^1];
        Assert.Equal(first, (await trimmer.GetMilestoneAsync("d", first))!.Version);
        IReadOnlyList<DocumentOperation> log = await trimmer.GetOperationsAsync("d", 0, null);
        Assert.Equal(Enumerable.Range((int)first, Versions - (int)first).Select(v => (long)v), log.Select(op => op.Version));

        // A last trim reaches the last milestone, and commits go on from there.
        Assert.Equal(Versions, await trimmer.TrimAsync("d", Start.AddSeconds(Versions)));
        Assert.Empty(await trimmer.GetOperationsAsync("d", 0, null));
        Assert.Equal(1, await postgres.ScalarAsync<long>($"SELECT count(*) FROM {schema}.realtime_milestones"));
        Assert.Equal(1, await postgres.ScalarAsync<long>($"SELECT count(*) FROM {schema}.realtime_milestone_fragments"));
        Assert.True(await committer.CommitAsync("d", Commit(Versions, DocumentOperationKind.Op, milestoneAt: null)));
        Assert.Single(await trimmer.GetOperationsAsync("d", 0, null));
    }

    [Fact]
    public async Task A_trim_reads_and_deletes_by_the_primary_keys_of_its_document_only()
    {
        string schema = postgres.NewSchema();
        await using PostgresDocumentStore store = postgres.NewStore(schema);
        await store.InitializeAsync();
        var sql = new PostgresStatements(new PostgresDocumentStoreOptions { Schema = schema });

        // With sequential scans priced out, a plan that still has one could not use an index.
        await using var connection = new NpgsqlConnection(postgres.ConnectionString);
        await connection.OpenAsync();
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync();
        await using (var off = new NpgsqlCommand("SET LOCAL enable_seqscan = off", connection, transaction))
        {
            await off.ExecuteNonQueryAsync();
        }

        var plan = new StringBuilder();
        await using (var explain = new NpgsqlCommand("EXPLAIN " + sql.Trim, connection, transaction))
        {
            explain.Parameters.Add(new NpgsqlParameter<string> { TypedValue = "d" });
            explain.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = Start });
            await using NpgsqlDataReader reader = await explain.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                plan.AppendLine(reader.GetString(0));
            }
        }

        string text = plan.ToString();
        Assert.DoesNotContain("Seq Scan", text, StringComparison.Ordinal);
        foreach (string index in new[] { "realtime_milestones_pkey", "realtime_operations_pkey", "realtime_milestone_fragments_pkey" })
        {
            Assert.Contains(index, text, StringComparison.Ordinal);
        }
    }

    /// <summary>Brings tables made by the current script back to what schema version 1 made: no time on milestones, no incarnation on
    /// records, version 1.</summary>
    private async Task MakeVersion1Async(string schema)
    {
        await postgres.ExecuteAsync($"ALTER TABLE {schema}.realtime_milestones DROP COLUMN committed_at");
        await postgres.ExecuteAsync($"ALTER TABLE {schema}.realtime_documents DROP COLUMN incarnation");
        await postgres.ExecuteAsync($"DELETE FROM {schema}.realtime_schema WHERE version > 1");
    }

    /// <summary>A commit at <paramref name="version"/> whose snapshot is also a milestone made at <paramref name="milestoneAt"/> (none
    /// when null).</summary>
    private static DocumentCommit Commit(long version, DocumentOperationKind kind, DateTimeOffset? milestoneAt)
    {
        byte[] payload = Encoding.UTF8.GetBytes(kind == DocumentOperationKind.Create ? """{"type":"t","data":0}""" : "[1]");
        var snapshot = new StoredSnapshot(version + 1, "t", new Dictionary<string, ReadOnlyMemory<byte>> { [StoredSnapshot.DefaultFragment] = Encoding.UTF8.GetBytes($"{version + 1}") })
        {
            Time = milestoneAt,
        };
        return new DocumentCommit(new DocumentOperation(version, "s", version, kind, payload), "t", snapshot, milestoneAt is null ? null : snapshot);
    }
}
