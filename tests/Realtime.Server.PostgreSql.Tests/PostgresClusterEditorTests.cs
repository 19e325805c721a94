using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Realtime.Client;
using Realtime.Testing;
using Realtime.TestSupport;

namespace Realtime.Server.PostgreSql.Tests;

/// <summary>
/// C# <see cref="SharedDocument"/> editors of one document, two on each of two nodes sharing one PostgreSQL store and the Redis backplane,
/// and a watcher on each node that only subscribes: all end at the same data and version as a fresh fetch, with no op applied twice.
/// </summary>
[Collection(PostgresCollection.Name)]
[RequiresPostgresAndRedis]
public sealed class PostgresClusterEditorTests(PostgresFixture postgres, RedisFixture redis) : IClassFixture<RedisFixture>
{
    private const string Document = "doc";

    /// <summary>The acceptance run: 500 ops per editor, version 2001.</summary>
    [Fact]
    public async Task Four_editors_of_random_json0_ops_on_two_nodes_converge_with_every_op_one_version()
    {
        const int OpsPerEditor = 500;
        var edits = new RandomJson0Edits();
        JsonNode data = await ConvergeAsync((doc, e) => edits.RunAsync(doc, e, OpsPerEditor), expectedVersion: 1 + (4 * OpsPerEditor),
                                            () => edits.Inserted.Count);
        Assert.Equal(4 * OpsPerEditor, edits.Count);
        edits.AssertAllIn(data);
    }

    [Fact]
    public async Task Editors_sending_composed_ops_on_two_nodes_converge_and_no_op_is_applied_twice()
    {
        const int Rounds = 10;
        const int OpsPerRound = 6; // submitted together: the client sends one, composes the rest
        await ConvergeAsync(async (doc, e) =>
        {
            for (int r = 0; r < Rounds; r++)
            {
                await Task.WhenAll(Enumerable.Range(0, OpsPerRound).Select(i => doc.SubmitOpAsync(i % 2 == 0
                    ? JsonNode.Parse($$"""[{"p":["items",0],"li":"e{{e}}-{{r}}-{{i}}"}]""")!
                    : JsonNode.Parse("""[{"p":["n"],"na":1}]""")!)));
            }
        }, expectedVersion: null, () => 4 * Rounds * (OpsPerRound / 2));
    }

    /// <summary>
    /// Four editors (two per node) run <paramref name="edit"/> at once, then every editor and watcher must reach the store's version
    /// (<paramref name="expectedVersion"/> when given) and hold the data of a fresh fetch on each node: <paramref name="inserts"/> distinct
    /// items, and as many ops in the log as the version. Returns that data.
    /// </summary>
    private async Task<JsonNode> ConvergeAsync(Func<SharedDocument, int, Task> edit, long? expectedVersion, Func<int> inserts)
    {
        await using var cluster = new DocumentCluster(postgres, redis);
        RealtimeTestHost[] nodes = [await cluster.StartNodeAsync(), await cluster.StartNodeAsync()];
        var errors = new ConcurrentQueue<Exception>();
        var docs = new List<SharedDocument>();
        try
        {
            for (int d = 0; d < 6; d++)
            {
                Connection connection = await new Client.Client(nodes[d % 2].Url.ToString()).ConnectAsync(Document).DefaultTimeout("a client to connect");
                cluster.Own(connection);
                var doc = new SharedDocument(connection, OtTypes.Json0);
                docs.Add(doc);
                doc.On(SharedDocumentEvents.Error, errors.Enqueue);
                await doc.SubscribeAsync().DefaultTimeout("a client to subscribe");
                if (d == 0)
                {
                    await doc.CreateAsync(JsonNode.Parse(RandomJson0Edits.InitialData)).DefaultTimeout("the create");
                }
            }

            SharedDocument[] editors = [.. docs.Take(4)]; // the last two are watchers
            await Task.WhenAll(editors.Select((doc, e) => Task.Run(() => edit(doc, e)))).WaitAsync(TimeSpan.FromSeconds(180));

            PostgresDocumentStore store = cluster.Inspect();
            long version = (await store.GetRecordAsync(Document))!.Version;
            if (expectedVersion is not null)
            {
                Assert.Equal(expectedVersion, version);
            }

            JsonNode expected = await EditorWaits.WaitForAllAtAsync(docs, version);
            JsonArray items = expected["items"]!.AsArray();
            Assert.Equal(inserts(), items.Count);
            Assert.Equal(items.Count, items.Select(i => i!.GetValue<string>()).Distinct().Count());
            foreach (RealtimeTestHost node in nodes)
            {
                DocumentSnapshot fetched = await node.Server.GetDocumentService().FetchAsync(Document).DefaultTimeout("a fetch");
                Assert.Equal(version, fetched.Version);
                Assert.True(JsonNode.DeepEquals(expected, fetched.Data), $"a fetch differs: {fetched.Data!.ToJsonString()}");
            }

            Assert.Equal(version, (await store.GetOperationsAsync(Document, 0, null)).Count);
            Assert.Empty(errors);
            return expected;
        }
        finally
        {
            foreach (SharedDocument doc in docs)
            {
                doc.Dispose();
            }
        }
    }
}
