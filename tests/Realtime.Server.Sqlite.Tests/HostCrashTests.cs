using System.Collections.Concurrent;
using System.Text.Json;
using Realtime.TestSupport;
using Xunit.Abstractions;

namespace Realtime.Server.Sqlite.Tests;

/// <summary>
/// The runnable host on a SQLite file, killed mid-burst (no shutdown: the process tree is killed) and started again on the same
/// file: every op it acknowledged before it died is in the document, and the document's version is its log's length.
/// </summary>
public sealed class HostCrashTests(ITestOutputHelper output) : IDisposable
{
    private const int Clients = 3;
    private const int OpsPerClient = 90; // under DocumentOptions.MaxOpsPerSecond (100) per connection: none is refused as too many
    private const int AcksBeforeTheKill = 30;

    private readonly TempDatabase _database = new();

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task A_host_killed_mid_burst_loses_no_acknowledged_op_its_version_equals_its_log_and_its_history_reads_after_the_restart()
    {
        var environment = new Dictionary<string, string>
        {
            ["Realtime__Documents__Store"] = "sqlite",
            ["Realtime__Documents__Sqlite"] = _database.File,
        };
        var acknowledged = new ConcurrentBag<string>();
        int sent = 0;
        await using (HostProcess host = await HostProcess.StartAsync(environment))
        {
            Assert.Contains(_database.File, host.Output, StringComparison.Ordinal); // the host says where its documents are

            var clients = new OtDocClient[Clients];
            for (int i = 0; i < Clients; i++)
            {
                clients[i] = await OtDocClient.ConnectAsync(host.Url, "burst");
            }

            await clients[0].SubmitAsync("""{"a":5,"seq":1,"x":{},"create":{"type":"json0","data":{}}}""", 0);

            // Each client pipelines its ops (no v: each applies at the head), each setting a key of its own; the acks are read as they come.
            var enoughAcks = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Task[] readers = [.. clients.Select((client, i) => Task.Run(async () =>
            {
                try
                {
                    while (true)
                    {
                        JsonElement reply = await client.ReceiveAsync();
                        Assert.False(reply.TryGetProperty("error", out JsonElement error), $"an ack, got the error {error}");
                        Assert.Equal(client.Id, reply.GetProperty("src").GetString());
                        acknowledged.Add($"c{i}-{reply.GetProperty("seq").GetInt64()}");
                        if (acknowledged.Count >= AcksBeforeTheKill)
                        {
                            enoughAcks.TrySetResult();
                        }
                    }
                }
                catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or InvalidOperationException or TimeoutException)
                {
                    // The host died: nothing more is acknowledged.
                }
            }))];
            Task[] senders = [.. clients.Select((client, i) => Task.Run(async () =>
            {
                try
                {
                    for (int seq = 2; seq < OpsPerClient + 2; seq++)
                    {
                        await client.SendAsync($$"""{"a":5,"seq":{{seq}},"x":{},"op":[{"p":["c{{i}}-{{seq}}"],"oi":{{seq}}}]}""");
                        Interlocked.Increment(ref sent);
                    }
                }
                catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or TimeoutException)
                {
                    // The host died mid-send.
                }
            }))];

            await enoughAcks.Task.DefaultTimeout("the first acks of the burst");
            await host.KillAsync();
            await Task.WhenAll([.. readers, .. senders]).DefaultTimeout("the clients to see the host die");
            foreach (OtDocClient client in clients)
            {
                await client.DisposeAsync();
            }
        }

        output.WriteLine($"{sent} ops sent, {acknowledged.Count} acknowledged before the host was killed");
        Assert.True(acknowledged.Count < Clients * OpsPerClient, "the host was killed after the burst, not during it");

        await using (HostProcess restarted = await HostProcess.StartAsync(environment))
        {
            await using OtDocClient client = await OtDocClient.ConnectAsync(restarted.Url, "burst");
            (List<JsonElement> ops, JsonElement snapshot) = await client.FetchAllAsync();
            long version = snapshot.GetProperty("v").GetInt64();
            HashSet<string> keys = [.. snapshot.GetProperty("data").EnumerateObject().Select(p => p.Name)];
            output.WriteLine($"after the restart: version {version}, {keys.Count} keys");

            Assert.All(acknowledged, key => Assert.Contains(key, keys));
            Assert.Equal(Enumerable.Range(0, (int)version).Select(v => (long)v), ops.Select(op => op.GetProperty("v").GetInt64()));
            Assert.Equal(version - 1, keys.Count); // the create, then one key per op: nothing applied twice, nothing missing
            Assert.Equal(keys.Order(StringComparer.Ordinal),
                         ops.Skip(1).Select(op => op.GetProperty("op")[0].GetProperty("p")[0].GetString()!).Order(StringComparer.Ordinal));

            // History from before the kill, rebuilt by the restarted host from the file: the document after the create and the ops below it.
            long middle = version / 2;
            JsonElement history = await client.AskAsync($$"""{"a":2,"id":"history","v":{{middle}}}""");
            Assert.Equal(middle, history.GetProperty("data").GetProperty("v").GetInt64());
            Assert.Equal(ops.Skip(1).Take((int)middle - 1).Select(op => op.GetProperty("op")[0].GetProperty("p")[0].GetString()!).Order(StringComparer.Ordinal),
                         history.GetProperty("data").GetProperty("data").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        }
    }
}
