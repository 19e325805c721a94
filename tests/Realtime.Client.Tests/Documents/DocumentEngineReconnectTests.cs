using System.Text.Json.Nodes;
using Realtime.Client.Internal;
using Realtime.TestSupport;

namespace Realtime.Client.Tests.Documents;

/// <summary>What the document does around a reconnection (js-collaboration-features.md §3.10), against a scripted server.</summary>
public class DocumentEngineReconnectTests
{
    [Fact]
    public async Task The_op_in_flight_is_resent_with_its_src_and_seq_then_the_subscribe_from_the_version_then_pending_requests()
    {
        DocumentEngine doc = DocumentEngineTests.Loaded(out FakeDocumentHost host, version: 1, data: 0);
        _ = doc.SubscribeAsync();
        doc.Server("""{"a":3}""");
        Task inFlight = doc.SubmitOpAsync(JsonValue.Create(1));
        host.TakeSent();

        doc.Disconnected();
        Task offline1 = doc.SubmitOpAsync(JsonValue.Create(2));
        Task offline2 = doc.SubmitOpAsync(JsonValue.Create(3));
        Task fetch = doc.FetchAsync();
        Task<SharedDocumentSnapshot> history = doc.FetchHistorySnapshotAsync(1);
        Assert.Empty(host.TakeSent()); // nothing goes out while offline
        Assert.Equal("6", doc.DataJson());

        doc.Connected("conn2");
        string[] sent = host.TakeSent();
        Assert.Equal("""{"a":5,"v":1,"src":"conn1","seq":1,"x":{},"op":1}""", sent[0]); // the resend keeps src and seq
        Assert.Equal("""{"a":3,"v":1}""", sent[1]);
        Assert.Equal("""{"a":0,"v":1}""", sent[2]);
        Assert.StartsWith("""{"a":2,""", sent[3], StringComparison.Ordinal);
        Assert.Equal(4, sent.Length);

        // The op was committed before the drop and its ack lost: the subscribe brings it back, and it is taken as the ack.
        doc.Server("""{"a":5,"v":1,"src":"conn1","seq":1,"op":1}""");
        await inFlight.DefaultTimeout();
        Assert.Equal("6", doc.DataJson()); // not applied twice
        Assert.Equal(["""{"a":5,"v":2,"src":"conn2","seq":2,"x":{},"op":5}"""], host.TakeSent()); // the two offline ops, composed
        doc.Server("""{"a":3}""");
        doc.Server("""{"src":"conn1","seq":1,"v":1,"a":5}"""); // the duplicate's ack: ignored
        doc.Server("""{"a":0}""");
        await fetch.DefaultTimeout();
        doc.Server("""{"src":"conn2","seq":2,"v":2,"a":5}""");
        await Task.WhenAll(offline1, offline2).DefaultTimeout();
        Assert.Equal(3, doc.Version);
        Assert.True(doc.Subscribed);
        Assert.False(history.IsCompleted);
    }

    [Fact]
    public async Task An_ack_beyond_the_version_waits_for_the_missed_ops_and_the_op_itself_among_them()
    {
        DocumentEngine doc = DocumentEngineTests.Loaded(out FakeDocumentHost host, version: 1, data: 0);
        Task op = doc.SubmitOpAsync(JsonValue.Create(1));
        host.TakeSent();
        doc.Disconnected();
        doc.Connected("conn2");
        host.TakeSent();

        // Committed at 3 after two others the client never got: the server's "already submitted" ack comes without them.
        doc.Server("""{"src":"conn1","seq":1,"v":3,"a":5}""");
        Assert.False(op.IsCompleted);
        Assert.Equal(["""{"a":0,"v":1}"""], host.TakeSent());
        doc.Server("""{"a":5,"v":1,"src":"B","seq":1,"op":10}""");
        doc.Server("""{"a":5,"v":2,"src":"B","seq":2,"op":100}""");
        doc.Server("""{"a":5,"v":3,"src":"conn1","seq":1,"op":1}""");
        doc.Server("""{"a":0}""");
        await op.DefaultTimeout();
        Assert.Equal(4, doc.Version);
        Assert.Equal("111", doc.DataJson());
    }

    [Fact]
    public void The_connection_the_document_started_on_sends_nothing_again_and_a_failed_send_waits_for_the_next_connection()
    {
        DocumentEngine doc = DocumentEngineTests.Loaded(out FakeDocumentHost host, version: 1, data: 0);
        doc.Connected("conn1"); // the Connect event of the connection the document was created on
        Assert.Empty(host.TakeSent());

        host.Refuse = true;
        _ = doc.SubmitOpAsync(JsonValue.Create(1));
        host.Refuse = false;
        Assert.Empty(host.TakeSent());
        doc.Connected("conn2");
        Assert.Equal(["""{"a":5,"v":1,"src":"conn1","seq":1,"x":{},"op":1}"""], host.TakeSent()); // numbered when first tried
    }
}
