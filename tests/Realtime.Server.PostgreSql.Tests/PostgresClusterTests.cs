using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Realtime.Testing;
using Realtime.TestSupport;

namespace Realtime.Server.PostgreSql.Tests;

/// <summary>
/// Two nodes sharing documents through one PostgreSQL store, with the Redis backplane carrying ops between them (issue 31, cluster
/// behaviour): every subscriber gets every op, a resend on the other node is applied once, a lost commit is retried. Editors: PostgresClusterEditorTests.
/// </summary>
[Collection(PostgresCollection.Name)]
[RequiresPostgresAndRedis]
public sealed class PostgresClusterTests(PostgresFixture postgres, RedisFixture redis) : IClassFixture<RedisFixture>
{
    private const string Document = "doc";

    [Fact]
    public async Task Every_subscriber_on_each_node_receives_every_committed_op_once()
    {
        foreach (IReadOnlyList<long> versions in await SubscribersOfRacingWritersAsync(opsPerWriter: 25))
        {
            Assert.Equal(Enumerable.Range(1, 100).Select(v => (long)v), versions.Order());
        }
    }

    /// <summary>
    /// Two subscribers on each of two nodes, and two writers on each node submitting <paramref name="opsPerWriter"/> ops at once (the
    /// nodes race for every version, the losers transform and retry): the versions of the op messages each subscriber received.
    /// </summary>
    private async Task<IReadOnlyList<long>[]> SubscribersOfRacingWritersAsync(int opsPerWriter)
    {
        await using var cluster = new DocumentCluster(postgres, redis);
        RealtimeTestHost[] nodes = [await cluster.StartNodeAsync(), await cluster.StartNodeAsync()];
        await nodes[0].Server.GetDocumentService().CreateAsync(Document, "json0", JsonNode.Parse("""{"n":0}""")).DefaultTimeout("the create");
        var subscribers = new List<WirePeer>();
        foreach (RealtimeTestHost node in nodes.Concat(nodes))
        {
            WirePeer peer = await cluster.ConnectAsync(node, Document);
            JsonElement reply = await peer.AskAsync("""{"a":3}""");
            Assert.Equal(1, reply.GetProperty("data").GetProperty("v").GetInt64());
            subscribers.Add(peer);
        }

        await Task.WhenAll(nodes.Concat(nodes).Select(node => Task.Run(async () =>
        {
            for (int i = 0; i < opsPerWriter; i++)
            {
                await node.Server.GetDocumentService().SubmitAsync(Document, JsonNode.Parse("""[{"p":["n"],"na":1}]""")!);
            }
        }))).WaitAsync(TimeSpan.FromSeconds(60));

        long ops = 4 * opsPerWriter;
        Assert.Equal(1 + ops, (await cluster.Inspect().GetRecordAsync(Document))!.Version);
        var received = new IReadOnlyList<long>[subscribers.Count];
        for (int s = 0; s < subscribers.Count; s++)
        {
            var versions = new List<long>();
            while (versions.Count < ops)
            {
                JsonElement message = await subscribers[s].ReceiveAsync();
                Assert.True(message.TryGetProperty("op", out _), $"an op message, got {message.GetRawText()}");
                versions.Add(message.GetProperty("v").GetInt64());
            }

            received[s] = versions;
        }

        return received;
    }

    [Fact]
    public async Task A_resent_op_landing_on_the_other_node_is_acknowledged_and_applied_once()
    {
        await using var cluster = new DocumentCluster(postgres, redis);
        RealtimeTestHost[] nodes = [await cluster.StartNodeAsync(), await cluster.StartNodeAsync()];
        WirePeer first = await cluster.ConnectAsync(nodes[0], Document);
        const string Create = """{"a":5,"seq":1,"x":{},"create":{"type":"json0","data":{"n":0}}}""";
        const string Increment = """{"a":5,"seq":2,"v":1,"x":{},"op":[{"p":["n"],"na":1}]}""";
        AssertAck(first.Id, 1, 0, await first.AskAsync(Create));
        AssertAck(first.Id, 2, 1, await first.AskAsync(Increment));

        // The first connection dropped before the acks: its client resends, with the same src and seq, through the other node.
        WirePeer resender = await cluster.ConnectAsync(nodes[1], Document);
        string resent = Increment.Replace("\"seq\"", $"\"src\":\"{first.Id}\",\"seq\"", StringComparison.Ordinal);
        AssertAck(first.Id, 2, 1, await resender.AskAsync(resent));
        AssertAck(first.Id, 1, 0, await resender.AskAsync(Create.Replace("\"seq\"", $"\"src\":\"{first.Id}\",\"seq\"", StringComparison.Ordinal)));

        // Again after another op was committed on the other node: the resend is transformed against the log, found there, and acknowledged.
        WirePeer other = await cluster.ConnectAsync(nodes[1], Document);
        AssertAck(other.Id, 1, 2, await other.AskAsync("""{"a":5,"seq":1,"v":2,"x":{},"op":[{"p":["n"],"na":10}]}"""));
        WirePeer late = await cluster.ConnectAsync(nodes[0], Document);
        AssertAck(first.Id, 2, 1, await late.AskAsync(resent));

        PostgresDocumentStore store = cluster.Inspect();
        Assert.Equal(3, (await store.GetRecordAsync(Document))!.Version);
        Assert.Equal(3, (await store.GetOperationsAsync(Document, 0, null)).Count);
        foreach (RealtimeTestHost node in nodes)
        {
            DocumentSnapshot fetched = await node.Server.GetDocumentService().FetchAsync(Document).DefaultTimeout("a fetch");
            Assert.Equal((3L, 11.0), (fetched.Version, fetched.Data!["n"]!.GetValue<double>()));
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData(0)]
    public async Task A_submit_that_loses_the_commit_to_the_other_node_is_transformed_and_retried_up_to_MaxSubmitRetries(int? maxSubmitRetries)
    {
        await using var cluster = new DocumentCluster(postgres, redis);
        RealtimeTestHost? other = null;
        int interfered = 0;
        RealtimeTestHost node = await cluster.StartNodeAsync(o =>
        {
            o.MaxSubmitRetries = maxSubmitRetries;

            // Just before this node's first commit, the other node commits at the same version: this node's compare-and-set fails.
            o.Use(DocumentAction.Commit, async (context, next) =>
            {
                if (context.Version == 1 && Interlocked.Exchange(ref interfered, 1) == 0)
                {
                    await other!.Server.GetDocumentService().SubmitAsync(Document, JsonNode.Parse("""[{"p":["items",0],"li":"other"}]""")!);
                }

                await next();
            });
        });
        other = await cluster.StartNodeAsync();
        await other.Server.GetDocumentService().CreateAsync(Document, "json0", JsonNode.Parse("""{"items":[]}""")).DefaultTimeout("the create");

        Task<long> submitted = node.Server.GetDocumentService().SubmitAsync(Document, JsonNode.Parse("""[{"p":["items",0],"li":"mine"}]""")!, version: 1);
        if (maxSubmitRetries == 0)
        {
            var refused = await Assert.ThrowsAsync<DocumentException>(() => submitted.DefaultTimeout("the submit"));
            Assert.Equal(4, refused.Code);
            Assert.Equal(2, (await cluster.Inspect().GetRecordAsync(Document))!.Version);
            return;
        }

        Assert.Equal(2, await submitted.DefaultTimeout("the submit")); // applied after the other node's op, transformed against it
        DocumentSnapshot fetched = await other.Server.GetDocumentService().FetchAsync(Document).DefaultTimeout("a fetch");
        Assert.Equal(3, fetched.Version);
        Assert.Equal("""{"items":["mine","other"]}""", fetched.Data!.ToJsonString());
    }

    [Fact]
    public async Task A_document_outlives_every_node_and_a_new_node_serves_it_with_its_history()
    {
        await using var cluster = new DocumentCluster(postgres, redis);
        RealtimeTestHost first = await cluster.StartNodeAsync();
        DocumentService service = first.Server.GetDocumentService();
        await service.CreateAsync(Document, "json0", JsonNode.Parse("""{"n":0}""")).DefaultTimeout("the create");
        WirePeer subscriber = await cluster.ConnectAsync(first, Document);
        await subscriber.AskAsync("""{"a":3}""");
        for (int i = 0; i < 5; i++)
        {
            await service.SubmitAsync(Document, JsonNode.Parse("""[{"p":["n"],"na":1}]""")!).DefaultTimeout("a submit");
        }

        // Stopped once its broadcasts went out (the subscriber has them): a node stopped while publishing logs the publish as failed.
        for (int v = 1; v <= 5; v++)
        {
            Assert.Equal(v, (await subscriber.ReceiveAsync()).GetProperty("v").GetInt64());
        }

        await subscriber.DisposeAsync();
        await first.StopAsync();

        RealtimeTestHost second = await cluster.StartNodeAsync();
        DocumentService again = second.Server.GetDocumentService();
        DocumentSnapshot fetched = await again.FetchAsync(Document).DefaultTimeout("a fetch");
        Assert.Equal((6L, """{"n":5}"""), (fetched.Version, fetched.Data!.ToJsonString()));
        DocumentSnapshot history = await again.FetchHistorySnapshotAsync(Document, 3).DefaultTimeout("a history fetch");
        Assert.Equal((3L, """{"n":2}"""), (history.Version, history.Data!.ToJsonString()));
        WirePeer next = await cluster.ConnectAsync(second, Document);
        await next.AskAsync("""{"a":3}""");
        Assert.Equal(6, await again.SubmitAsync(Document, JsonNode.Parse("""[{"p":["n"],"na":1}]""")!, version: 6).DefaultTimeout("a submit"));
        Assert.Equal(6, (await next.ReceiveAsync()).GetProperty("v").GetInt64());
    }

    private static void AssertAck(string src, int seq, long version, JsonElement reply)
    {
        Assert.False(reply.TryGetProperty("error", out _), $"an ack, got {reply.GetRawText()}");
        Assert.Equal((5, src, seq, version), (reply.GetProperty("a").GetInt32(), reply.GetProperty("src").GetString(), reply.GetProperty("seq").GetInt32(),
                                              reply.GetProperty("v").GetInt64()));
    }
}
