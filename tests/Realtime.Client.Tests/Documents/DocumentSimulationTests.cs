using System.Text.Json.Nodes;
using Realtime.TestSupport;
using Xunit.Abstractions;

namespace Realtime.Client.Tests.Documents;

/// <summary>
/// The client algorithm with json0 against a miniature server under random interleavings, drops and reconnections: every client
/// ends with the server's document, and every op submitted is in it exactly once.
/// </summary>
public class DocumentSimulationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Clients_converge_on_the_servers_document_with_every_op_applied_exactly_once()
    {
        int firstSeed = Environment.GetEnvironmentVariable("REALTIME_DOC_SIM_SEED") is { } fixedSeed ? int.Parse(fixedSeed, System.Globalization.CultureInfo.InvariantCulture) : Random.Shared.Next();
        output.WriteLine($"seeds from {firstSeed} (REALTIME_DOC_SIM_SEED repeats)");
        for (int run = 0; run < 50; run++)
        {
            int seed = unchecked(firstSeed + run);
            try
            {
                await RunAsync(seed);
            }
            catch (Exception ex)
            {
                throw new InvalidOperationException($"seed {seed}: {ex.Message}", ex);
            }
        }
    }

    private static async Task RunAsync(int seed)
    {
        var random = new Random(seed);
        var server = new MiniDocumentServer(OtTypes.Json0);
        server.Create(JsonNode.Parse("""{"list":[],"n":0}""")!);
        SimulatedClient[] clients = [server.AddClient(), server.AddClient(), server.AddClient()];
        foreach (SimulatedClient client in clients)
        {
            Task subscribed = client.Document.SubscribeAsync();
            while (client.DeliverToServer() || client.DeliverToClient())
            {
            }

            await subscribed.DefaultTimeout();
        }

        var submits = new List<Task>();
        int nextValue = 0;
        long added = 0;
        for (int step = 0; step < 200; step++)
        {
            SimulatedClient client = clients[random.Next(clients.Length)];
            int roll = random.Next(100);
            if (roll < 30)
            {
                int length = client.Document.Read(d => d!["list"]!.AsArray().Count);
                if (random.Next(3) == 0)
                {
                    int amount = random.Next(1, 6);
                    added += amount;
                    submits.Add(client.Document.SubmitOpAsync(JsonNode.Parse($$"""[{"p":["n"],"na":{{amount}}}]""")!));
                }
                else
                {
                    submits.Add(client.Document.SubmitOpAsync(JsonNode.Parse($$"""[{"p":["list",{{random.Next(length + 1)}}],"li":{{nextValue++}}}]""")!));
                }
            }
            else if (roll < 60)
            {
                client.DeliverToServer();
            }
            else if (roll < 92)
            {
                client.DeliverToClient();
            }
            else if (roll < 96 && client.Online)
            {
                client.Drop(delivered: random.Next(3));
            }
            else if (!client.Online)
            {
                client.Reconnect();
            }
        }

        foreach (SimulatedClient client in clients.Where(c => !c.Online))
        {
            client.Reconnect();
        }

        for (int quiet = 0; quiet < 10_000 && clients.Any(c => c.DeliverToServer() | c.DeliverToClient()); quiet++)
        {
        }

        await Task.WhenAll(submits).DefaultTimeout();
        string expected = server.Snapshot!.ToJsonString();
        foreach (SimulatedClient client in clients)
        {
            Assert.Empty(client.Trouble);
            Assert.False(client.Document.HasPendingOps, $"{client.Id} still has ops");
            Assert.Equal(expected, client.Document.Data!.ToJsonString());
            Assert.Equal(server.Version, client.Document.Version);
        }

        Assert.Equal(Enumerable.Range(0, nextValue), server.Snapshot!["list"]!.AsArray().Select(n => int.Parse(n!.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture)).Order());
        Assert.Equal(added, double.Parse(server.Snapshot!["n"]!.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture));
    }
}
