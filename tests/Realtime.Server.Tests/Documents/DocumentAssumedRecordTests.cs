using System.Text;
using System.Text.Json;
using Realtime.TestSupport;
using static Realtime.Server.Tests.Documents.DocumentHost;

namespace Realtime.Server.Tests.Documents;

/// <summary>
/// An op is written against the record the node last knew, without reading it first (one store round trip per op instead of two); where
/// another node moved the record meanwhile, the store's compare-and-set refuses the write and the submit starts again from a fresh read.
/// "Another node" here writes to the store underneath directly.
/// </summary>
public sealed class DocumentAssumedRecordTests
{
    [Fact]
    public async Task Ops_after_the_create_are_committed_without_reading_the_record()
    {
        var store = new DocumentStoreFailureTests.FailingStore();
        await using KestrelRealtimeHost host = await StartAsync(o => o.Store = store);
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility: false);
        Assert.Equal(Ack(a.Id, 1, 0), await a.AskAsync(Create(1, "a")));

        int reads = store.RecordReads;
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(Ack(a.Id, 2 + i, 1 + i), await a.AskAsync(Insert(2 + i, 1 + i, 0, "b" + i)));
        }

        Assert.Equal(reads, store.RecordReads);
        Assert.Equal(6, (await store.GetRecordAsync("room1"))!.Version);
    }

    [Fact]
    public async Task An_op_written_against_a_record_another_node_moved_is_transformed_against_the_other_op_and_committed_after_it()
    {
        var store = new DocumentStoreFailureTests.FailingStore();
        await using KestrelRealtimeHost host = await StartAsync(o => o.Store = store);
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility: false);
        Assert.Equal(Ack(a.Id, 1, 0), await a.AskAsync(Create(1, "a")));
        DocumentRecord record = (await store.Inner.GetRecordAsync("room1"))!;
        Assert.True(await store.Inner.CommitAsync("room1", OtherNode(1, """[{"i":0,"s":"x"}]""", ["x", "a"], record.Incarnation)));

        int reads = store.RecordReads;
        await a.SendAsync(Insert(2, 1, 1, "b"));
        Assert.Equal(OpMessage(1, "other", 1, 0, "x"), await a.ReceiveAsync()); // what it was transformed against, then the ack
        Assert.Equal(Ack(a.Id, 2, 2), await a.ReceiveAsync());
        Assert.True(store.RecordReads > reads, "the refused write was followed by a read of the record");
        Assert.Equal("""["x","a","b"]""", (await host.Server.GetDocumentService().FetchAsync("room1")).Data!.ToJsonString());
    }

    [Fact]
    public async Task An_op_written_against_a_life_another_node_deleted_and_created_again_at_the_same_version_applies_to_the_new_life()
    {
        var store = new DocumentStoreFailureTests.FailingStore();
        await using KestrelRealtimeHost host = await StartAsync(o => o.Store = store);
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility: false);
        Assert.Equal(Ack(a.Id, 1, 0), await a.AskAsync(Create(1, "a")));

        // Another node deletes the document and creates it again: version 1 again, other data, another incarnation.
        Assert.True(await store.Inner.DeleteAsync("room1", 1));
        Assert.True(await store.Inner.CommitAsync("room1", OtherNode(0, null, ["z"], "second")));

        Assert.Equal(Ack(a.Id, 2, 1), await a.AskAsync(Insert(2, 1, 1, "b")));

        // Not this node's stale ["a"] with the op: the store's new life with it.
        Assert.Equal("""["z","b"]""", (await host.Server.GetDocumentService().FetchAsync("room1")).Data!.ToJsonString());
        Assert.Equal("second", (await store.Inner.GetRecordAsync("room1"))!.Incarnation);
    }

    /// <summary>A commit as another node writes it: an op at <paramref name="version"/> (a create of <paramref name="data"/> when
    /// <paramref name="op"/> is null) with the snapshot after it.</summary>
    private static DocumentCommit OtherNode(long version, string? op, string[] data, string? incarnation)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(data);
        byte[] payload = op is null
            ? Encoding.UTF8.GetBytes($$"""{"type":"{{ListUri}}","data":{{JsonSerializer.Serialize(data)}}}""")
            : Encoding.UTF8.GetBytes(op);
        var snapshot = new StoredSnapshot(version + 1, ListUri, new Dictionary<string, ReadOnlyMemory<byte>> { [StoredSnapshot.DefaultFragment] = json });
        DocumentOperationKind kind = op is null ? DocumentOperationKind.Create : DocumentOperationKind.Op;
        return new DocumentCommit(new DocumentOperation(version, "other", 1, kind, payload), ListUri, snapshot, null) { Incarnation = incarnation };
    }
}
