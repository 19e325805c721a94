using System.Text.Json.Nodes;
using Realtime.Client.Internal;
using Realtime.TestSupport;

namespace Realtime.Client.Tests.Documents;

/// <summary>The client algorithm of js-collaboration-features.md §3.5–3.9 against a scripted server: what the document sends, applies and raises.</summary>
public class DocumentEngineTests
{
    private const string Counter = "urn:test:counter";

    [Fact]
    public async Task A_snapshot_loads_then_one_op_is_in_flight_and_the_ops_submitted_meanwhile_are_composed()
    {
        DocumentEngine doc = FakeDocumentHost.Engine(out FakeDocumentHost host);
        Task fetched = doc.FetchAsync();
        Assert.Equal(["""{"a":0}"""], host.TakeSent());
        doc.Server($$$"""{"a":0,"data":{"id":"room1","v":3,"type":"{{{Counter}}}","data":10}}""");
        await fetched.DefaultTimeout();
        Assert.Equal(3, doc.Version);
        Assert.Equal("10", doc.DataJson());
        Assert.Equal(["load:3"], host.TakeEvents());

        Task first = doc.SubmitOpAsync(JsonValue.Create(1));
        Task second = doc.SubmitOpAsync(JsonValue.Create(2));
        Task third = doc.SubmitOpAsync(JsonValue.Create(4));
        Assert.Equal("17", doc.DataJson()); // applied locally at once
        Assert.Equal(["""{"a":5,"v":3,"src":"conn1","seq":1,"x":{},"op":1}"""], host.TakeSent());
        Assert.Equal(["before op:1 local", "op:1 local", "before op:2 local", "op:2 local", "before op:4 local", "op:4 local"], host.TakeEvents());

        doc.Server("""{"src":"conn1","seq":1,"v":3,"a":5}""");
        await first.DefaultTimeout();
        Assert.False(second.IsCompleted);
        Assert.Equal(4, doc.Version);
        Assert.Equal(["""{"a":5,"v":4,"src":"conn1","seq":2,"x":{},"op":6}"""], host.TakeSent()); // 2 and 4 composed

        doc.Server("""{"src":"conn1","seq":2,"v":4,"a":5}""");
        await Task.WhenAll(second, third).DefaultTimeout();
        Assert.Equal(5, doc.Version);
        Assert.False(doc.HasPendingOps);
        Assert.Empty(host.TakeSent());
    }

    [Fact]
    public void A_remote_op_at_the_version_is_transformed_against_the_pending_ops_with_the_local_op_on_the_left()
    {
        DocumentEngine doc = FakeDocumentHost.Engine(out FakeDocumentHost host, InsertType.Instance);
        _ = doc.FetchAsync();
        doc.Server("""{"a":0,"data":{"id":"room1","v":1,"type":"urn:test:insert","data":"xyz"}}""");
        _ = doc.SubmitOpAsync(InsertType.Op(0, "a"));
        _ = doc.SubmitOpAsync(InsertType.Op(4, "!")); // cannot compose with the first: it waits apart
        host.TakeSent();
        host.TakeEvents();

        // B's insert at the same place reached the server first: the server puts ours (later, left) before it; so do we.
        doc.Server("""{"a":5,"v":1,"src":"B","seq":1,"op":{"p":0,"s":"b"}}""");
        Assert.Equal("\"abxyz!\"", doc.DataJson());
        Assert.Equal(2, doc.Version);
        Assert.Equal(["""before op:{"p":1,"s":"b"} remote""", """op:{"p":1,"s":"b"} remote"""], host.TakeEvents());

        // The ack says where ours went; the queued op was transformed too, and goes from the new version.
        doc.Server("""{"src":"conn1","seq":1,"v":2,"a":5}""");
        Assert.Equal(["""{"a":5,"v":3,"src":"conn1","seq":2,"x":{},"op":{"p":5,"s":"!"}}"""], host.TakeSent());
    }

    [Fact]
    public void An_op_below_the_version_is_ignored_and_one_above_it_fetches_the_ops_since_the_version_once_at_a_time()
    {
        DocumentEngine doc = Loaded(out FakeDocumentHost host, version: 5, data: 0);
        doc.Server("""{"a":5,"v":4,"src":"B","seq":9,"op":100}""");
        Assert.Equal("0", doc.DataJson());
        Assert.Empty(host.TakeSent());

        doc.Server("""{"a":5,"v":7,"src":"B","seq":12,"op":100}""");
        doc.Server("""{"a":5,"v":8,"src":"B","seq":13,"op":100}""");
        Assert.Equal(["""{"a":0,"v":5}"""], host.TakeSent()); // the second gap waits for the first fetch's answer
        doc.Server("""{"a":5,"v":5,"src":"B","seq":10,"op":1}""");
        doc.Server("""{"a":5,"v":6,"src":"B","seq":11,"op":2}""");
        doc.Server("""{"a":0}""");
        Assert.Equal(["""{"a":0,"v":7}"""], host.TakeSent());
        Assert.Equal(7, doc.Version);
        Assert.Equal("3", doc.DataJson());
    }

    [Fact]
    public async Task A_refused_op_is_rolled_back_by_its_inverse_the_queue_follows_and_the_error_is_raised()
    {
        DocumentEngine doc = Loaded(out FakeDocumentHost host, version: 2, data: 10);
        Task refused = doc.SubmitOpAsync(JsonValue.Create(5));
        Task next = doc.SubmitOpAsync(JsonValue.Create(1));
        host.TakeSent();
        host.TakeEvents();

        doc.Server("""{"a":5,"v":2,"src":"conn1","seq":1,"x":{},"op":5,"error":{"code":1000,"message":"Forbidden"}}""");
        SharedDocumentException error = await Assert.ThrowsAsync<SharedDocumentException>(() => refused.DefaultTimeout());
        Assert.Equal((1000, "Forbidden"), (error.Code, error.Message));
        Assert.Equal("11", doc.DataJson());
        Assert.Equal(2, doc.Version);
        Assert.Equal(["before op:-5 remote", "op:-5 remote", "error:1000 Forbidden"], host.TakeEvents());
        Assert.Equal(["""{"a":5,"v":2,"src":"conn1","seq":2,"x":{},"op":1}"""], host.TakeSent());
        Assert.False(next.IsCompleted);
    }

    [Fact]
    public async Task Code_19_rolls_the_op_back_silently_and_its_call_completes()
    {
        DocumentEngine doc = Loaded(out FakeDocumentHost host, version: 2, data: 10);
        Task rejected = doc.SubmitOpAsync(JsonValue.Create(5));
        host.TakeEvents();
        doc.Server("""{"a":5,"v":2,"src":"conn1","seq":1,"x":{},"op":5,"error":{"code":19,"message":"Op submit rejected"}}""");
        await rejected.DefaultTimeout();
        Assert.Equal("10", doc.DataJson());
        Assert.Equal(["before op:-5 remote", "op:-5 remote"], host.TakeEvents());
    }

    [Fact]
    public async Task A_refused_op_of_a_type_that_cannot_invert_drops_the_local_state_and_fetches_the_servers()
    {
        DocumentEngine doc = FakeDocumentHost.Engine(out FakeDocumentHost host, InsertType.Instance);
        _ = doc.FetchAsync();
        doc.Server("""{"a":0,"data":{"id":"room1","v":1,"type":"urn:test:insert","data":"x"}}""");
        Task refused = doc.SubmitOpAsync(InsertType.Op(0, "a"));
        Task queued = doc.SubmitOpAsync(InsertType.Op(0, "b"));
        host.TakeSent();
        host.TakeEvents();

        doc.Server("""{"a":5,"v":1,"src":"conn1","seq":1,"error":{"code":1000,"message":"No"}}""");
        await Assert.ThrowsAsync<SharedDocumentException>(() => refused.DefaultTimeout());
        await Assert.ThrowsAsync<SharedDocumentException>(() => queued.DefaultTimeout());
        Assert.Equal(["hardRollback:1000 No", "error:1000 No"], host.TakeEvents());
        Assert.Null(doc.Version);
        Assert.Equal(["""{"a":0}"""], host.TakeSent());
        doc.Server("""{"a":0,"data":{"id":"room1","v":1,"type":"urn:test:insert","data":"x"}}""");
        Assert.Equal("\"x\"", doc.DataJson());
        Assert.Equal(["load:1"], host.TakeEvents());
    }

    [Fact]
    public async Task A_create_before_any_load_is_sent_without_a_version_and_its_ack_gives_the_version()
    {
        DocumentEngine doc = FakeDocumentHost.Engine(out FakeDocumentHost host);
        Task created = doc.CreateAsync(JsonValue.Create(7), null);
        Assert.Equal("7", doc.DataJson());
        Assert.Equal(["create:local"], host.TakeEvents());
        Assert.Equal(["""{"a":5,"src":"conn1","seq":1,"x":{},"create":{"type":"test-counter","data":7}}"""], host.TakeSent());
        doc.Server("""{"src":"conn1","seq":1,"v":0,"a":5}""");
        await created.DefaultTimeout();
        Assert.Equal(1, doc.Version);
        Assert.Same(CounterType.Instance, doc.Type);
    }

    [Fact]
    public async Task A_subscriber_sees_remote_create_op_restore_and_delete_with_their_events()
    {
        DocumentEngine doc = FakeDocumentHost.Engine(out FakeDocumentHost host);
        Task subscribed = doc.SubscribeAsync();
        Assert.Equal(["""{"a":3}"""], host.TakeSent());
        doc.Server("""{"a":3,"data":{"id":"room1","v":0}}""");
        await subscribed.DefaultTimeout();
        Assert.Equal(0, doc.Version);
        Assert.Null(doc.Type);

        doc.Server($$$"""{"a":5,"v":0,"src":"B","seq":1,"create":{"type":"{{{Counter}}}","data":3}}""");
        doc.Server("""{"a":5,"v":1,"src":"B","seq":2,"op":4}""");
        doc.Server("""{"a":5,"v":2,"src":"B","seq":3,"restore":{"v":1,"data":3}}""");
        Assert.Equal("3", doc.DataJson());
        doc.Server("""{"a":5,"v":3,"src":"B","seq":4,"del":true}""");
        Assert.Null(doc.Type);
        Assert.Equal(4, doc.Version);
        Assert.Equal(["load:0", "create:remote", "before op:4 remote", "op:4 remote", "restore:remote", "del:remote"], host.TakeEvents());
    }

    [Fact]
    public async Task A_remote_delete_under_a_pending_op_is_a_hard_rollback_with_code_3_and_a_local_delete_cancels_a_remote_op()
    {
        DocumentEngine doc = Loaded(out FakeDocumentHost host, version: 2, data: 1);
        Task op = doc.SubmitOpAsync(JsonValue.Create(1));
        host.TakeEvents();
        doc.Server("""{"a":5,"v":2,"src":"B","seq":1,"del":true}""");
        Assert.Equal(3, (await Assert.ThrowsAsync<SharedDocumentException>(() => op.DefaultTimeout())).Code);
        Assert.Equal(["hardRollback:3 Document was deleted", "error:3 Document was deleted"], host.TakeEvents());

        DocumentEngine other = Loaded(out FakeDocumentHost otherHost, version: 2, data: 1);
        Task deleted = other.DeleteAsync();
        otherHost.TakeEvents();
        other.Server("""{"a":5,"v":2,"src":"B","seq":1,"op":5}""");
        Assert.Empty(otherHost.TakeEvents());
        Assert.Null(other.Type);
        other.Server("""{"src":"conn1","seq":1,"v":3,"a":5}""");
        await deleted.DefaultTimeout();
        Assert.Equal(4, other.Version);
    }

    [Fact]
    public async Task History_snapshots_are_matched_by_request_id_and_a_restore_replaces_the_content_locally()
    {
        DocumentEngine doc = Loaded(out FakeDocumentHost host, version: 4, data: 9);
        Task<SharedDocumentSnapshot> history = doc.FetchHistorySnapshotAsync(2);
        Task<SharedDocumentSnapshot> tooFar = doc.FetchHistorySnapshotAsync(10);
        string[] sent = host.TakeSent();
        string id = JsonNode.Parse(sent[0])!["id"]!.GetValue<string>();
        string tooFarId = JsonNode.Parse(sent[1])!["id"]!.GetValue<string>();
        Assert.Equal($$$"""{"a":2,"id":"{{{id}}}","v":2}""", sent[0]);
        doc.Server($$$"""{"a":2,"id":"{{{tooFarId}}}","v":10,"error":{"code":17,"message":"Requested version exceeds latest snapshot version"}}""");
        doc.Server($$$"""{"id":"{{{id}}}","data":{"id":"room1","v":2,"type":"{{{Counter}}}","data":5},"a":2}""");
        SharedDocumentSnapshot snapshot = await history.DefaultTimeout();
        Assert.Equal((2L, Counter, "5"), (snapshot.Version, snapshot.TypeUri, snapshot.Data!.ToJsonString()));
        Assert.Equal(17, (await Assert.ThrowsAsync<SharedDocumentException>(() => tooFar.DefaultTimeout())).Code);

        Task restored = doc.RestoreAsync(snapshot);
        Assert.Equal("5", doc.DataJson());
        Assert.Equal(["restore:local"], host.TakeEvents());
        Assert.Equal(["""{"a":5,"v":4,"src":"conn1","seq":1,"x":{},"restore":{"v":2,"data":5}}"""], host.TakeSent());
        doc.Server("""{"src":"conn1","seq":1,"v":4,"a":5}""");
        await restored.DefaultTimeout();
        Assert.Equal(5, doc.Version);
    }

    [Fact]
    public async Task HardRollbackAsync_drops_the_unacknowledged_ops_and_completes_when_the_servers_snapshot_is_loaded()
    {
        DocumentEngine doc = Loaded(out FakeDocumentHost host, version: 2, data: 1);
        Task op = doc.SubmitOpAsync(JsonValue.Create(5));
        host.TakeSent();
        host.TakeEvents();
        Task rolledBack = doc.HardRollbackAsync();
        await Assert.ThrowsAsync<SharedDocumentException>(() => op.DefaultTimeout());
        Assert.Equal(["hardRollback:none"], host.TakeEvents()); // asked for: no error event
        Assert.Equal(["""{"a":0}"""], host.TakeSent());
        Assert.Null(doc.Data);
        doc.Server("""{"src":"conn1","seq":1,"v":2,"a":5}"""); // the dropped op's ack: nothing is in flight any more
        doc.Server($$$"""{"a":0,"data":{"id":"room1","v":3,"type":"{{{Counter}}}","data":6}}""");
        await rolledBack.DefaultTimeout();
        Assert.Equal((3L, "6"), (doc.Version!.Value, doc.DataJson()));
        Assert.Equal(["load:3"], host.TakeEvents());
    }

    [Fact]
    public async Task Dispose_fails_every_waiting_call()
    {
        DocumentEngine doc = Loaded(out FakeDocumentHost host, version: 1, data: 0);
        Task op = doc.SubmitOpAsync(JsonValue.Create(1));
        Task fetch = doc.FetchAsync();
        Task<SharedDocumentSnapshot> history = doc.FetchHistorySnapshotAsync(1);
        doc.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => op.DefaultTimeout());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => fetch.DefaultTimeout());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => history.DefaultTimeout());
        Assert.Throws<ObjectDisposedException>(() => { _ = doc.SubmitOpAsync(JsonValue.Create(1)); });
    }

    internal static DocumentEngine Loaded(out FakeDocumentHost host, long version, long data, string connectedAs = "conn1")
    {
        DocumentEngine doc = FakeDocumentHost.Engine(out host, connectedAs: connectedAs);
        _ = doc.FetchAsync();
        doc.Server($$$"""{"a":0,"data":{"id":"room1","v":{{{version}}},"type":"{{{Counter}}}","data":{{{data}}}}}""");
        host.TakeSent();
        host.TakeEvents();
        return doc;
    }
}
