using System.Text.Json;
using System.Text.Json.Nodes;
using Realtime.TestSupport;
using static Realtime.Server.Tests.Documents.DocumentHost;

namespace Realtime.Server.Tests.Documents;

/// <summary>The limits of <see cref="DocumentOptions"/>, the server-side API (<see cref="DocumentService"/>), and many concurrent editors.</summary>
public sealed class DocumentLimitsAndApiTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Ops_over_the_size_limit_or_the_rate_and_snapshots_over_theirs_are_refused_with_1000_and_nothing_is_committed(bool compatibility)
    {
        await using KestrelRealtimeHost host = await StartAsync(o =>
        {
            o.MaxOpBytes = 100;
            o.MaxSnapshotBytes = 50;
            o.MaxOpsPerSecond = 0;
        });
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility);
        await a.AskAsync(Create(1));

        Assert.Equal("Op too large: 101 bytes, more than the limit of 100 (DocumentOptions.MaxOpBytes)",
                     await a.ExpectErrorAsync(Insert(2, 1, 0, new string('x', 101 - """[{"i":0,"s":""}]""".Length)), 1000));
        Assert.Equal(Ack(a.Id, 3, 1), await a.AskAsync(Insert(3, 1, 0, new string('y', 40)))); // 44 bytes of snapshot
        Assert.StartsWith("Snapshot too large: 52 bytes after this op, more than the limit of 50 (DocumentOptions.MaxSnapshotBytes)",
                          await a.ExpectErrorAsync(Insert(4, 2, 0, "zzzzz"), 1000));
        Assert.Equal(Snapshot(0, "room1", 2, new string('y', 40)), await a.AskAsync("""{"a":0}"""));
        Assert.Equal(Ack(a.Id, 5, 2), await a.AskAsync(Insert(5, 2, 0, "z"))); // the live snapshot was not left changed
    }

    [Fact]
    public async Task Ops_beyond_the_rate_of_a_connection_are_refused_and_other_connections_keep_theirs()
    {
        await using KestrelRealtimeHost host = await StartAsync(o => o.MaxOpsPerSecond = 1);
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility: true);
        await using DocPeer b = await DocPeer.ConnectAsync(host, compatibility: true);
        Assert.Equal(Ack(a.Id, 1, 0), await a.AskAsync(Create(1)));

        // A bucket of one, refilled at one per second: a's next op within the second is refused (one second between two messages
        // of one test client does not happen here).
        Assert.Equal("Too many ops: more than 1 per second from this connection (DocumentOptions.MaxOpsPerSecond)",
                     await a.ExpectErrorAsync(Insert(2, 1, 0, "a"), 1000));
        Assert.Equal(Ack(b.Id, 1, 1), await b.AskAsync(Insert(1, 1, 0, "b")));
        Assert.Equal(Snapshot(0, "room1", 2, "b"), await a.AskAsync("""{"a":0}"""));
    }

    [Fact]
    public async Task The_server_side_api_reads_and_changes_documents_and_subscribers_get_the_changes()
    {
        await using KestrelRealtimeHost host = await StartAsync();
        DocumentService documents = host.Server.GetDocumentService();
        await using DocPeer sub = await DocPeer.ConnectAsync(host, compatibility: true, "doc");
        Assert.Equal("""{"data":{"id":"doc","v":0},"a":3}""", await sub.AskAsync("""{"a":3}"""));

        Assert.Equal(new DocumentSnapshot("doc", 0, null, null), await documents.FetchAsync("doc"));
        Assert.Equal(1, (await Assert.ThrowsAsync<DocumentException>(() => documents.SubmitAsync("doc", JsonNode.Parse("""[{"i":0,"s":"x"}]""")!))).Code);
        Assert.Equal(0, await documents.CreateAsync("doc", ListUri, new JsonArray("a")));
        Assert.Equal($$$"""{"a":5,"v":0,"create":{"type":"{{{ListUri}}}","data":["a"]}}""", await sub.ReceiveAsync());
        Assert.Equal(1, await documents.SubmitAsync("doc", JsonNode.Parse("""[{"i":1,"s":"b"}]""")!));
        Assert.Equal("""{"a":5,"v":1,"op":[{"i":1,"s":"b"}]}""", await sub.ReceiveAsync());
        Assert.Equal(2, await documents.SubmitAsync("doc", JsonNode.Parse("""[{"i":0,"s":"c"}]""")!, version: 1)); // transformed: still first
        Assert.Equal("""{"a":5,"v":2,"op":[{"i":0,"s":"c"}]}""", await sub.ReceiveAsync());

        DocumentSnapshot latest = await documents.FetchAsync("doc");
        Assert.Equal((3L, ListUri, """["c","a","b"]"""), (latest.Version, latest.Type, latest.Data!.ToJsonString()));
        Assert.Equal([0L, 1L, 2L], (await documents.GetOpsAsync("doc", 0)).Select(op => op.Version));
        Assert.Equal([DocumentOperationKind.Op], (await documents.GetOpsAsync("doc", 1, 2)).Select(op => op.Kind));
        Assert.Equal("""["a","b"]""", (await documents.FetchHistorySnapshotAsync("doc", 2)).Data!.ToJsonString());
        Assert.Equal(17, (await Assert.ThrowsAsync<DocumentException>(() => documents.FetchHistorySnapshotAsync("doc", 4))).Code);

        Assert.Equal(3, await documents.RestoreAsync("doc", 1));
        Assert.Equal($$$"""{"a":5,"v":3,"restore":{"v":1,"data":["a"]}}""", await sub.ReceiveAsync());
        Assert.Equal(4, await documents.DeleteAsync("doc"));
        Assert.Equal("""{"a":5,"v":4,"del":true}""", await sub.ReceiveAsync());
        Assert.Equal(new DocumentSnapshot("doc", 0, null, null), await documents.FetchAsync("doc"));
        Assert.Equal(2, (await Assert.ThrowsAsync<DocumentException>(() => documents.CreateAsync("doc", "nope", null))).Code);
    }

    [Fact]
    public async Task Without_UseDocuments_the_service_is_not_there()
    {
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync();
        Assert.Throws<InvalidOperationException>(() => host.Server.GetDocumentService());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Concurrent_editors_on_two_wires_converge_on_one_document_each_op_applied_once(bool compatibility)
    {
        await using KestrelRealtimeHost host = await StartAsync(o => o.MaxOpsPerSecond = 0);
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility);
        await using DocPeer b = await DocPeer.ConnectAsync(host, !compatibility);
        await a.AskAsync(Create(1));
        const int PerEditor = 40;

        // Each editor keeps one op in flight and writes it at the version it knows, as the clients do; what the other committed
        // meanwhile reaches it as broadcasts and as what its op was transformed against.
        async Task<long> EditAsync(DocPeer peer, string name, int firstSeq)
        {
            long version = 1;
            await peer.SendAsync("""{"a":3,"v":1}""");
            for (int i = 0; i < PerEditor; i++)
            {
                int seq = firstSeq + i;
                await peer.SendAsync(Insert(seq, version, 0, $"{name}{i}"));
                while (true)
                {
                    JsonElement message = await peer.ReceiveElementAsync();
                    if (message.TryGetProperty("v", out JsonElement v) && message.TryGetProperty("src", out JsonElement src) && src.GetString() == peer.Id
                        && message.GetProperty("seq").GetInt32() == seq && !message.TryGetProperty("op", out _))
                    {
                        version = Math.Max(version, v.GetInt64() + 1); // the ack
                        break;
                    }

                    if (message.TryGetProperty("v", out JsonElement seen) && message.TryGetProperty("op", out _))
                    {
                        version = Math.Max(version, seen.GetInt64() + 1);
                    }
                }
            }

            return version;
        }

        await Task.WhenAll(EditAsync(a, "a", 2), EditAsync(b, "b", 1)).DefaultTimeout("both editors to finish");
        DocumentSnapshot final = await host.Server.GetDocumentService().FetchAsync("room1");
        Assert.Equal(1 + (2 * PerEditor), final.Version);
        string[] items = [.. final.Data!.AsArray().Select(n => n!.GetValue<string>())];
        Assert.Equal(2 * PerEditor, items.Distinct().Count());

        // Each editor's own inserts at 0 stay in its order (newest first).
        Assert.Equal(Enumerable.Range(0, PerEditor).Reverse().Select(i => $"a{i}"), items.Where(s => s[0] == 'a'));
        Assert.Equal(Enumerable.Range(0, PerEditor).Reverse().Select(i => $"b{i}"), items.Where(s => s[0] == 'b'));
    }
}
