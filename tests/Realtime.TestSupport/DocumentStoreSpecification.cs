using System.Text;
using Realtime.Server;
using Xunit;

namespace Realtime.TestSupport;

/// <summary>
/// What every <see cref="DocumentStore"/> must do: derive a test class, return a fresh store from <see cref="CreateStoreAsync"/>, and every
/// test here runs against it (the in-memory store's: tests/Realtime.Server.Tests/Documents/InMemoryDocumentStoreTests.cs).
/// </summary>
public abstract class DocumentStoreSpecification : IAsyncLifetime
{
    private DocumentStore? _store;

    /// <summary>The store under test (a fresh one per test).</summary>
    protected DocumentStore Store => _store ?? throw new InvalidOperationException("Not initialized.");

    /// <summary>A new, empty store.</summary>
    protected abstract Task<DocumentStore> CreateStoreAsync();

    /// <summary>Releases the store (a database's connections, its files).</summary>
    protected virtual Task DisposeStoreAsync(DocumentStore store) => Task.CompletedTask;

    public async Task InitializeAsync() => _store = await CreateStoreAsync();

    public async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await DisposeStoreAsync(_store);
        }
    }

    [Fact]
    public async Task A_document_that_was_never_written_has_nothing()
    {
        Assert.Null(await Store.GetRecordAsync("none"));
        Assert.Null(await Store.GetSnapshotAsync("none"));
        Assert.Empty(await Store.GetOperationsAsync("none", 0, null));
        Assert.Null(await Store.FindOperationAsync("none", "src", 1));
        Assert.Null(await Store.GetMilestoneAsync("none", 10));
    }

    [Fact]
    public async Task Commits_append_to_the_log_move_the_record_and_replace_the_snapshot()
    {
        Assert.True(await Store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, """{"type":"t","data":1}""", "1")));
        Assert.True(await Store.CommitAsync("d", Commit(1, DocumentOperationKind.Op, "[1]", "2")));
        Assert.True(await Store.CommitAsync("d", Commit(2, DocumentOperationKind.Op, "[2]", "4", source: "b", sequence: 9)));

        Assert.Equal(new DocumentRecord(3, "t"), await Store.GetRecordAsync("d"));
        StoredSnapshot snapshot = (await Store.GetSnapshotAsync("d"))!;
        Assert.Equal((3L, "t", "4"), (snapshot.Version, snapshot.Type, Text(snapshot.Fragments[StoredSnapshot.DefaultFragment])));

        IReadOnlyList<DocumentOperation> all = await Store.GetOperationsAsync("d", 0, null);
        Assert.Equal([0L, 1L, 2L], all.Select(op => op.Version));
        Assert.Equal([DocumentOperationKind.Create, DocumentOperationKind.Op, DocumentOperationKind.Op], all.Select(op => op.Kind));
        Assert.Equal(("b", 9L, "[2]"), (all[2].Source, all[2].Sequence, Text(all[2].Payload)));
        Assert.Equal([1L], (await Store.GetOperationsAsync("d", 1, 2)).Select(op => op.Version));
        Assert.Equal([1L, 2L], (await Store.GetOperationsAsync("d", 1, 99)).Select(op => op.Version));
        Assert.Empty(await Store.GetOperationsAsync("d", 3, null));
        Assert.Equal(2L, (await Store.FindOperationAsync("d", "b", 9))?.Version);
        Assert.Null(await Store.FindOperationAsync("d", "b", 8));
        Assert.Null(await Store.FindOperationAsync("d", "c", 9));
    }

    [Fact]
    public async Task A_commit_at_a_version_the_record_does_not_have_is_refused_and_writes_nothing()
    {
        Assert.False(await Store.CommitAsync("d", Commit(1, DocumentOperationKind.Op, "[1]", "x"))); // no record: version 0
        Assert.Null(await Store.GetRecordAsync("d"));
        Assert.True(await Store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, """{"type":"t","data":1}""", "1")));
        Assert.False(await Store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, """{"type":"t","data":2}""", "2")));
        Assert.False(await Store.CommitAsync("d", Commit(2, DocumentOperationKind.Op, "[2]", "3")));

        Assert.Equal(new DocumentRecord(1, "t"), await Store.GetRecordAsync("d"));
        Assert.Equal("1", Text((await Store.GetSnapshotAsync("d"))!.Fragments[StoredSnapshot.DefaultFragment]));
        Assert.Single(await Store.GetOperationsAsync("d", 0, null));
    }

    [Fact]
    public async Task Of_concurrent_commits_at_one_version_exactly_one_wins()
    {
        Assert.True(await Store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, """{"type":"t","data":0}""", "0")));
        bool[] results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
            await Store.CommitAsync("d", Commit(1, DocumentOperationKind.Op, $"[{i}]", $"{i}", source: $"s{i}", sequence: 1)))));
        Assert.Single(results, won => won);
        Assert.Equal(2, (await Store.GetRecordAsync("d"))!.Version);
        Assert.Equal(2, (await Store.GetOperationsAsync("d", 0, null)).Count);
    }

    [Fact]
    public async Task A_commit_without_a_snapshot_leaves_the_stored_one_behind_the_record()
    {
        Assert.True(await Store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, """{"type":"t","data":0}""", "0")));
        Assert.True(await Store.CommitAsync("d", new DocumentCommit(Op(1, DocumentOperationKind.Op, "[1]"), "t", null, null)));
        Assert.Equal(2, (await Store.GetRecordAsync("d"))!.Version);
        Assert.Equal(1, (await Store.GetSnapshotAsync("d"))!.Version);
    }

    [Fact]
    public async Task Snapshots_keep_every_named_fragment()
    {
        var fragments = new Dictionary<string, ReadOnlyMemory<byte>> { ["sheet1"] = Utf8("{\"a\":1}"), ["sheet2"] = Utf8("[]"), ["meta"] = Utf8("\"é\"") };
        Assert.True(await Store.CommitAsync("d", new DocumentCommit(Op(0, DocumentOperationKind.Create, """{"type":"f","data":null}"""), "f",
                                                                    new StoredSnapshot(1, "f", fragments), null)));
        StoredSnapshot stored = (await Store.GetSnapshotAsync("d"))!;
        Assert.Equal(fragments.Keys.Order(StringComparer.Ordinal), stored.Fragments.Keys.Order(StringComparer.Ordinal));
        Assert.All(fragments, f => Assert.Equal(Text(f.Value), Text(stored.Fragments[f.Key])));
    }

    [Fact]
    public async Task The_newest_milestone_at_or_below_a_version_is_found()
    {
        Assert.True(await Store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, """{"type":"t","data":0}""", "0")));
        for (int v = 1; v < 7; v++)
        {
            StoredSnapshot snapshot = Snapshot(v + 1, $"{v + 1}");
            Assert.True(await Store.CommitAsync("d", new DocumentCommit(Op(v, DocumentOperationKind.Op, "[1]"), "t", snapshot, (v + 1) % 3 == 0 ? snapshot : null)));
        }

        Assert.Null(await Store.GetMilestoneAsync("d", 2));
        Assert.Equal(3, (await Store.GetMilestoneAsync("d", 3))!.Version);
        Assert.Equal(3, (await Store.GetMilestoneAsync("d", 5))!.Version);
        Assert.Equal("6", Text((await Store.GetMilestoneAsync("d", 100))!.Fragments[StoredSnapshot.DefaultFragment]));
    }

    [Fact]
    public async Task A_milestone_keeps_its_time_and_trimming_keeps_history_from_the_newest_milestone_old_enough()
    {
        var start = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.True(await Store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, """{"type":"t","data":0}""", "0")));
        for (int v = 1; v < 10; v++)
        {
            // Milestones at versions 3, 6 and 9, committed 2, 5 and 8 hours after the start.
            StoredSnapshot snapshot = Snapshot(v + 1, $"{v + 1}") with { Time = start.AddHours(v) };
            Assert.True(await Store.CommitAsync("d", new DocumentCommit(Op(v, DocumentOperationKind.Op, $"[{v}]"), "t", snapshot, (v + 1) % 3 == 0 ? snapshot : null)));
        }

        Assert.Equal(start.AddHours(5), (await Store.GetMilestoneAsync("d", 7))!.Time);
        Assert.Null(await Store.TrimAsync("d", start.AddHours(1))); // no milestone that old: nothing removed
        Assert.Equal(10, (await Store.GetOperationsAsync("d", 0, null)).Count);
        Assert.Null(await Store.TrimAsync("none", start.AddHours(9)));

        Assert.Equal(6, await Store.TrimAsync("d", start.AddHours(6.5))); // the milestones at 3 (2 h) and 6 (5 h) are old enough: 6 is kept
        Assert.Equal([6L, 7L, 8L, 9L], (await Store.GetOperationsAsync("d", 0, null)).Select(op => op.Version));
        Assert.Equal([7L, 8L], (await Store.GetOperationsAsync("d", 7, 9)).Select(op => op.Version));
        Assert.Empty(await Store.GetOperationsAsync("d", 0, 5));
        Assert.Null(await Store.GetMilestoneAsync("d", 5));
        Assert.Equal(6, (await Store.GetMilestoneAsync("d", 8))!.Version);
        Assert.Equal(new DocumentRecord(10, "t"), await Store.GetRecordAsync("d"));
        Assert.Equal("10", Text((await Store.GetSnapshotAsync("d"))!.Fragments[StoredSnapshot.DefaultFragment]));

        // The log goes on from there, and the record's compare-and-set with it.
        Assert.True(await Store.CommitAsync("d", Commit(10, DocumentOperationKind.Op, "[10]", "11")));
        Assert.False(await Store.CommitAsync("d", Commit(10, DocumentOperationKind.Op, "[10]", "11")));
        Assert.Equal([9L, 10L], (await Store.GetOperationsAsync("d", 9, null)).Select(op => op.Version));
        Assert.Equal(9, await Store.TrimAsync("d", start.AddDays(1)));
        Assert.Equal([9L, 10L], (await Store.GetOperationsAsync("d", 0, null)).Select(op => op.Version));
    }

    [Fact]
    public async Task Delete_erases_everything_at_the_expected_version_only_and_the_id_starts_again_at_0()
    {
        Assert.True(await Store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, """{"type":"t","data":0}""", "0", milestone: true)));
        Assert.True(await Store.CommitAsync("d", Commit(1, DocumentOperationKind.Op, "[1]", "1", source: "a", sequence: 2)));
        Assert.False(await Store.DeleteAsync("d", 1));
        Assert.NotNull(await Store.GetRecordAsync("d"));

        Assert.True(await Store.DeleteAsync("d", 2));
        Assert.Null(await Store.GetRecordAsync("d"));
        Assert.Null(await Store.GetSnapshotAsync("d"));
        Assert.Empty(await Store.GetOperationsAsync("d", 0, null));
        Assert.Null(await Store.FindOperationAsync("d", "a", 2));
        Assert.Null(await Store.GetMilestoneAsync("d", 10));
        Assert.True(await Store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, """{"type":"t","data":5}""", "5")));
        Assert.Equal(new DocumentRecord(1, "t"), await Store.GetRecordAsync("d"));
    }

    [Fact]
    public async Task The_create_gives_the_record_its_incarnation_until_the_delete()
    {
        Assert.True(await Store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, """{"type":"t","data":0}""", "0") with { Incarnation = "first" }));
        Assert.True(await Store.CommitAsync("d", Commit(1, DocumentOperationKind.Op, "[1]", "1") with { Incarnation = "first" }));
        Assert.Equal("first", (await Store.GetRecordAsync("d"))!.Incarnation);

        Assert.True(await Store.DeleteAsync("d", 2));
        Assert.True(await Store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, """{"type":"t","data":5}""", "5") with { Incarnation = "second" }));
        Assert.True(await Store.CommitAsync("d", Commit(1, DocumentOperationKind.Op, "[1]", "6")));
        DocumentRecord record = (await Store.GetRecordAsync("d"))!;
        Assert.Equal((2L, "t", "second"), (record.Version, record.Type, record.Incarnation)); // the same version as before the delete, told apart

        Assert.True(await Store.CommitAsync("e", Commit(0, DocumentOperationKind.Create, """{"type":"t","data":0}""", "0")));
        Assert.Null((await Store.GetRecordAsync("e"))!.Incarnation);
    }

    [Fact]
    public async Task A_commit_prepared_against_an_earlier_life_of_the_document_is_refused_at_the_same_version()
    {
        Assert.True(await Store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, """{"type":"t","data":0}""", "0") with { Incarnation = "first" }));
        Assert.True(await Store.DeleteAsync("d", 1));
        Assert.True(await Store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, """{"type":"t","data":5}""", "5") with { Incarnation = "second" }));

        // A node that last saw the first life writes at version 1, the second life's version too: the record does not move.
        Assert.False(await Store.CommitAsync("d", Commit(1, DocumentOperationKind.Op, "[1]", "1") with { Incarnation = "first" }));
        Assert.Equal((1L, "second"), ((await Store.GetRecordAsync("d"))!.Version, (await Store.GetRecordAsync("d"))!.Incarnation));
        Assert.Single(await Store.GetOperationsAsync("d", 0, null));

        Assert.True(await Store.CommitAsync("d", Commit(1, DocumentOperationKind.Op, "[1]", "6") with { Incarnation = "second" }));
        Assert.Equal(2, (await Store.GetRecordAsync("d"))!.Version);

        // A record without an incarnation (written before stores kept one) moves for a commit that names one.
        Assert.True(await Store.CommitAsync("e", Commit(0, DocumentOperationKind.Create, """{"type":"t","data":0}""", "0")));
        Assert.True(await Store.CommitAsync("e", Commit(1, DocumentOperationKind.Op, "[1]", "1") with { Incarnation = "any" }));
        Assert.Equal(2, (await Store.GetRecordAsync("e"))!.Version);
    }

    [Fact]
    public async Task A_group_of_commits_is_written_in_order_with_the_last_snapshot()
    {
        Assert.True(await Store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, """{"type":"t","data":0}""", "0") with { Incarnation = "i" }));
        DocumentCommit[] group =
        [
            Commit(1, DocumentOperationKind.Op, "[1]", "1", sequence: 2) with { Snapshot = null, Incarnation = "i" },
            Commit(2, DocumentOperationKind.Op, "[2]", "2", sequence: 3) with { Snapshot = null, Incarnation = "i", Milestone = Snapshot(3, "2") },
            Commit(3, DocumentOperationKind.Op, "[3]", "3", sequence: 4) with { Incarnation = "i" },
        ];

        Assert.Equal(3, await Store.CommitManyAsync("d", group));
        Assert.Equal(4, (await Store.GetRecordAsync("d"))!.Version);
        Assert.Equal(["[1]", "[2]", "[3]"], (await Store.GetOperationsAsync("d", 1, null)).Select(o => Text(o.Payload)));
        StoredSnapshot latest = (await Store.GetSnapshotAsync("d"))!;
        Assert.Equal((4L, "3"), (latest.Version, Text(latest.Fragments[StoredSnapshot.DefaultFragment])));
        Assert.Equal(3, (await Store.GetMilestoneAsync("d", 3))!.Version);
        Assert.Equal(0, await Store.CommitManyAsync("d", []));
    }

    [Fact]
    public async Task A_group_writes_nothing_after_a_refused_commit()
    {
        Assert.True(await Store.CommitAsync("d", Commit(0, DocumentOperationKind.Create, """{"type":"t","data":0}""", "0")));

        // The first is at a version the record is not at: nothing is written.
        Assert.Equal(0, await Store.CommitManyAsync("d", [Commit(2, DocumentOperationKind.Op, "[2]", "2"), Commit(3, DocumentOperationKind.Op, "[3]", "3")]));
        Assert.Equal(1, (await Store.GetRecordAsync("d"))!.Version);

        // The second is refused (it wants version 3, the record will be at 2): whatever else, nothing after it, and the record says
        // exactly what the log holds.
        int written = await Store.CommitManyAsync("d", [Commit(1, DocumentOperationKind.Op, "[1]", "1"), Commit(3, DocumentOperationKind.Op, "[3]", "3")]);
        Assert.InRange(written, 0, 1);
        Assert.Equal(1 + written, (await Store.GetRecordAsync("d"))!.Version);
        Assert.Equal(1 + written, (await Store.GetOperationsAsync("d", 0, null)).Count);
    }

    [Fact]
    public async Task Documents_are_apart()
    {
        Assert.True(await Store.CommitAsync("a", Commit(0, DocumentOperationKind.Create, """{"type":"t","data":0}""", "0")));
        Assert.True(await Store.CommitAsync("b", Commit(0, DocumentOperationKind.Create, """{"type":"u","data":0}""", "9", type: "u")));
        Assert.True(await Store.DeleteAsync("a", 1));
        Assert.Equal(new DocumentRecord(1, "u"), await Store.GetRecordAsync("b"));
        Assert.Equal("9", Text((await Store.GetSnapshotAsync("b"))!.Fragments[StoredSnapshot.DefaultFragment]));
    }

    private static DocumentOperation Op(long version, DocumentOperationKind kind, string payload, string? source = "s", long sequence = 1)
        => new(version, source, sequence, kind, Utf8(payload));

    private static DocumentCommit Commit(long version, DocumentOperationKind kind, string payload, string snapshot, string? source = "s", long sequence = 1,
                                         bool milestone = false, string type = "t")
    {
        StoredSnapshot stored = Snapshot(version + 1, snapshot, type);
        return new DocumentCommit(Op(version, kind, payload, source, sequence), type, stored, milestone ? stored : null);
    }

    private static StoredSnapshot Snapshot(long version, string json, string type = "t")
        => new(version, type, new Dictionary<string, ReadOnlyMemory<byte>> { [StoredSnapshot.DefaultFragment] = Utf8(json) });

    private static ReadOnlyMemory<byte> Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static string Text(ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);
}
