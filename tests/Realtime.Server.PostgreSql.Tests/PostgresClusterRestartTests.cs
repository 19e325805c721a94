using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Realtime.Client;
using Realtime.Testing;
using Realtime.TestSupport;

namespace Realtime.Server.PostgreSql.Tests;

/// <summary>
/// Four C# editors on two nodes sharing PostgreSQL and Redis while one node is stopped without its graceful part and started again on its
/// port: its editors reconnect and resend what was in flight, and every acknowledged op is in the document once, on every client and in a
/// fresh fetch.
/// </summary>
[Collection(PostgresCollection.Name)]
[RequiresPostgresAndRedis]
public sealed class PostgresClusterRestartTests(PostgresFixture postgres, RedisFixture redis) : IClassFixture<RedisFixture>
{
    private const string Document = "doc";
    private const int OpsPerEditor = 60;

    [Fact]
    public async Task A_node_stopped_mid_burst_and_restarted_loses_no_acknowledged_op_and_every_client_converges()
    {
        await using var cluster = new DocumentCluster(postgres, redis);
        cluster.ExpectErrors("PublishFailed", "DocumentRequestFailed", "FeatureFailed"); // the stopped node's broadcasts, and submits cancelled in flight
        RealtimeTestHost stable = await cluster.StartNodeAsync();
        RealtimeTestHost stopped = await cluster.StartNodeAsync();
        int stoppedPort = stopped.Port;
        var options = new ClientOptions { ReconnectionDelay = TimeSpan.FromMilliseconds(50), ReconnectionDelayMax = TimeSpan.FromMilliseconds(200) };
        var docs = new List<SharedDocument>();
        var acknowledged = new ConcurrentBag<string>();
        var halfway = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            for (int d = 0; d < 6; d++)
            {
                RealtimeTestHost node = d % 2 == 0 ? stable : stopped;
                Connection connection = await new Client.Client(node.Url.ToString(), options).ConnectAsync(Document).DefaultTimeout("a client to connect");
                cluster.Own(connection);
                var doc = new SharedDocument(connection, OtTypes.Json0);
                docs.Add(doc);
                await doc.SubscribeAsync().DefaultTimeout("a client to subscribe");
                if (d == 0)
                {
                    await doc.CreateAsync(JsonNode.Parse("""{"items":[]}""")).DefaultTimeout("the create");
                }
            }

            // Four editors (two per node) insert uniquely named items, each op awaited; the last two clients only watch.
            Task[] editors = [.. docs.Take(4).Select((doc, e) => Task.Run(async () =>
            {
                var random = new Random(e);
                for (int i = 0; i < OpsPerEditor; i++)
                {
                    string item = $"e{e}-{i}";
                    int length = doc.Data!["items"]!.AsArray().Count;
                    await doc.SubmitOpAsync(JsonNode.Parse($$"""[{"p":["items",{{random.Next(length + 1)}}],"li":"{{item}}"}]""")!);
                    acknowledged.Add(item);
                    if (acknowledged.Count >= 2 * OpsPerEditor)
                    {
                        halfway.TrySetResult();
                    }
                }
            }))];

            await halfway.Task.DefaultTimeout("half the ops to be acknowledged");
            await stopped.StopAsync(new CancellationToken(canceled: true)); // no graceful part: the node's connections are cut
            await cluster.StartNodeAsync(port: stoppedPort);
            await Task.WhenAll(editors).WaitAsync(TimeSpan.FromSeconds(90));

            PostgresDocumentStore store = cluster.Inspect();
            long version = (await store.GetRecordAsync(Document))!.Version;
            Assert.Equal(1 + (4 * OpsPerEditor), version); // every op applied once: none lost, none twice
            Assert.Equal(version, (await store.GetOperationsAsync(Document, 0, null)).Count);
            foreach (SharedDocument doc in docs)
            {
                await EditorWaits.WaitForVersionAsync(doc, version);
            }

            JsonNode expected = docs[0].Data!;
            string[] items = [.. expected["items"]!.AsArray().Select(i => i!.GetValue<string>())];
            Assert.Equal(acknowledged.Order(StringComparer.Ordinal), items.Order(StringComparer.Ordinal));
            Assert.All(docs, doc => Assert.True(JsonNode.DeepEquals(expected, doc.Data), $"a client diverged: {doc.Data!.ToJsonString()}"));
            DocumentSnapshot fetched = await stable.Server.GetDocumentService().FetchAsync(Document).DefaultTimeout("a fetch");
            Assert.True(JsonNode.DeepEquals(expected, fetched.Data), $"a fetch differs: {fetched.Data!.ToJsonString()}");
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
