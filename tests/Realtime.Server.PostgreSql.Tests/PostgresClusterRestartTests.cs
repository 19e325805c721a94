using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Realtime.Client;
using Realtime.Testing;
using Realtime.TestSupport;
using Xunit.Abstractions;

namespace Realtime.Server.PostgreSql.Tests;

/// <summary>
/// The issue's acceptance run with a node killed midway. Two nodes share PostgreSQL and Redis: one in this process, the other the runnable
/// host in a child process, whose clients reach it through a load balancer (<see cref="FailoverProxy"/>, the child preferred). Four editors,
/// two per node, submit 500 random json0 ops each, and a watcher on each node follows. Once half the ops are acknowledged the child is
/// killed (SIGKILL: no close frame, no goodbye to Redis, its commits cut wherever they were): its clients reconnect through the balancer to
/// the other node and resend the op they had in flight. Then the child is started again on its port and a watcher joins it. At the end
/// the version is 1 + 2000 and the log holds as many ops, every acknowledged op is in the document once, and every client and a fresh
/// fetch on each node hold the same data.
/// </summary>
[Collection(PostgresCollection.Name)]
[RequiresPostgresAndRedis]
public sealed class PostgresClusterRestartTests(PostgresFixture postgres, RedisFixture redis, ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    private const string Document = "killed-node-doc"; // the host's tables are in schema public, which other tests use too
    private const int Editors = 4;
    private const int OpsPerEditor = 500;

    private static readonly ClientOptions Reconnecting = new()
    {
        ReconnectionDelay = TimeSpan.FromMilliseconds(50),
        ReconnectionDelayMax = TimeSpan.FromMilliseconds(200),
    };

    [Fact]
    public async Task A_node_killed_mid_burst_loses_no_acknowledged_op_its_clients_go_on_on_the_other_node_and_all_converge()
    {
        await using var cluster = new DocumentCluster(postgres, redis, PostgresDocumentStoreOptions.DefaultSchema);
        RealtimeTestHost survivor = await cluster.StartNodeAsync();
        HostProcess doomed = await cluster.StartHostProcessAsync();
        var balancer = new FailoverProxy(doomed.Port, survivor.Port);
        cluster.Own(balancer);
        var docs = new List<SharedDocument>();
        var errors = new ConcurrentQueue<Exception>();
        var edits = new RandomJson0Edits();
        var halfway = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        edits.Acknowledged += count =>
        {
            if (count >= Editors * OpsPerEditor / 2)
            {
                halfway.TrySetResult();
            }
        };

        async Task<SharedDocument> SubscribeAsync(string url)
        {
            Connection connection = await new Client.Client(url, Reconnecting).ConnectAsync(Document).DefaultTimeout("a client to connect");
            cluster.Own(connection);
            var doc = new SharedDocument(connection, OtTypes.Json0);
            docs.Add(doc);
            doc.On(SharedDocumentEvents.Error, errors.Enqueue);
            await doc.SubscribeAsync().DefaultTimeout("a client to subscribe");
            return doc;
        }

        try
        {
            // Editors 0 and 2 and watcher 4 on the survivor; editors 1 and 3 and watcher 5 on the doomed node, through the balancer.
            var reconnected = new List<Task>();
            for (int d = 0; d < Editors + 2; d++)
            {
                SharedDocument doc = await SubscribeAsync(d % 2 == 0 ? survivor.Url.ToString() : balancer.Url());
                if (d == 0)
                {
                    await doc.CreateAsync(JsonNode.Parse(RandomJson0Edits.InitialData)).DefaultTimeout("the create");
                }
                else if (d % 2 == 1)
                {
                    var reconnect = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    doc.Connection.Once(ConnectionEvents.Reconnect, _ => reconnect.TrySetResult());
                    reconnected.Add(reconnect.Task);
                }
            }

            Assert.Equal(3, balancer.ConnectionsHandedTo(doomed.Port));

            var clock = Stopwatch.StartNew();
            Task[] editors = [.. docs.Take(Editors).Select((doc, e) => Task.Run(() => edits.RunAsync(doc, e, OpsPerEditor)))];
            await halfway.Task.WaitAsync(TimeSpan.FromSeconds(90));
            int port = doomed.Port;
            bool inFlight = docs[1].HasPendingOps || docs[3].HasPendingOps;
            await doomed.KillAsync();
            output.WriteLine($"killed after {clock.Elapsed.TotalSeconds:F1} s, with {edits.Count} ops acknowledged and {(inFlight ? "an op" : "none")} in flight on it");

            // Its clients come back on the survivor, the only node left behind the balancer, before it is started again.
            await Task.WhenAll(reconnected).DefaultTimeout("the killed node's clients to reconnect");
            Assert.Equal(3, balancer.ConnectionsHandedTo(survivor.Port));
            HostProcess restarted = await cluster.StartHostProcessAsync(port);
            await SubscribeAsync(restarted.Url);
            output.WriteLine($"restarted after {clock.Elapsed.TotalSeconds:F1} s, with {edits.Count} ops acknowledged");

            await Task.WhenAll(editors).WaitAsync(TimeSpan.FromSeconds(180));
            output.WriteLine($"all {edits.Count} ops acknowledged after {clock.Elapsed.TotalSeconds:F1} s");

            PostgresDocumentStore store = cluster.Inspect();
            long version = (await store.GetRecordAsync(Document))!.Version;
            Assert.Equal(1 + (Editors * OpsPerEditor), version); // every op applied once: none lost, none twice
            Assert.Equal(version, (await store.GetOperationsAsync(Document, 0, null)).Count);
            Assert.Equal(Editors * OpsPerEditor, edits.Count);
            JsonNode expected = await EditorWaits.WaitForAllAtAsync(docs, version);
            edits.AssertAllIn(expected);

            DocumentSnapshot fetched = await survivor.Server.GetDocumentService().FetchAsync(Document).DefaultTimeout("a fetch on the survivor");
            Assert.Equal(version, fetched.Version);
            Assert.True(JsonNode.DeepEquals(expected, fetched.Data), $"a fetch on the survivor differs: {fetched.Data!.ToJsonString()}");
            using var fresh = new SharedDocument(await new Client.Client(restarted.Url).ConnectAsync(Document).DefaultTimeout("a client to connect"),
                                                 OtTypes.Json0);
            cluster.Own(fresh.Connection);
            await fresh.FetchAsync().DefaultTimeout("a fetch on the restarted node");
            Assert.Equal(version, fresh.Version);
            Assert.True(JsonNode.DeepEquals(expected, fresh.Data), $"a fetch on the restarted node differs: {fresh.Data!.ToJsonString()}");
            Assert.Empty(errors);
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
