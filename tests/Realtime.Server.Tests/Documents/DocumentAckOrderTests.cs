using System.Text.Json;
using Realtime.TestSupport;
using static Realtime.Server.Tests.Documents.DocumentHost;

namespace Realtime.Server.Tests.Documents;

/// <summary>§3.5 step 10 in the document's queue: a submitter's ack is never overtaken by a later op's broadcast.</summary>
public sealed class DocumentAckOrderTests
{
    private const int OpsEach = 200;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task With_two_editors_racing_each_ack_arrives_before_any_op_of_a_higher_version(bool compatibility)
    {
        await using KestrelRealtimeHost host = await StartAsync(o => o.MaxOpsPerSecond = 0);
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility);
        await using DocPeer b = await DocPeer.ConnectAsync(host, compatibility);
        await a.AskAsync("""{"a":3}"""); // subscribed: both hear each other's ops
        await b.AskAsync("""{"a":3}""");
        Assert.Equal(Ack(a.Id, 1, 0), await a.AskAsync(Create(1)));
        Assert.Equal(0, (await b.ReceiveElementAsync()).GetProperty("v").GetInt64()); // the create

        List<string>[] overtaken = await Task.WhenAll(EditAsync(a, firstSeq: 2), EditAsync(b, firstSeq: 1));
        Assert.Empty(overtaken[0]);
        Assert.Empty(overtaken[1]);
    }

    /// <summary>One op in flight at a time, as a client does; returns the broadcasts that arrived before an ack of a lower version.</summary>
    private static async Task<List<string>> EditAsync(DocPeer peer, int firstSeq)
    {
        var overtaken = new List<string>();
        long known = 1;
        for (int seq = firstSeq; seq < firstSeq + OpsEach; seq++)
        {
            await peer.SendAsync(Insert(seq, known, 0, "x"));
            var before = new List<(long Version, string Json)>();
            while (true)
            {
                JsonElement message = await peer.ReceiveElementAsync();
                long v = message.GetProperty("v").GetInt64();
                known = Math.Max(known, v + 1);
                if (message.TryGetProperty("op", out _))
                {
                    before.Add((v, message.GetRawText()));
                    continue;
                }

                Assert.False(message.TryGetProperty("error", out _), message.GetRawText());
                Assert.Equal(seq, message.GetProperty("seq").GetInt32());
                overtaken.AddRange(before.Where(op => op.Version > v).Select(op => $"ack v{v} after {op.Json}"));
                break;
            }
        }

        return overtaken;
    }
}
