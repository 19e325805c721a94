using System.Text.Json.Nodes;
using Realtime.TestSupport;
using static Realtime.Server.Tests.Documents.DocumentHost;

namespace Realtime.Server.Tests.Documents;

/// <summary>A create's and a restore's data are whole snapshots: they have <see cref="DocumentOptions.MaxSnapshotBytes"/>, not the op limit.</summary>
public sealed class DocumentSnapshotLimitTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Create_and_restore_data_are_held_to_the_snapshot_limit_not_the_op_limit(bool compatibility)
    {
        await using KestrelRealtimeHost host = await StartAsync(o =>
        {
            o.MaxOpBytes = 100;
            o.MaxSnapshotBytes = 1000;
            o.MaxOpsPerSecond = 0;
        });
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility);
        string big = new('x', 300);
        Assert.Equal(Ack(a.Id, 1, 0), await a.AskAsync(Create(1, big)));
        Assert.Equal(Ack(a.Id, 2, 1), await a.AskAsync(Insert(2, 1, 0, "y")));
        Assert.Equal(2, await host.Server.GetDocumentService().RestoreAsync("room1", 1)); // ["xxx…"]: 300 bytes of data
        Assert.Equal(Snapshot(0, "room1", 3, big), await a.AskAsync("""{"a":0}"""));

        await using DocPeer b = await DocPeer.ConnectAsync(host, compatibility, "room2");
        Assert.Matches(@"^Snapshot too large: \d+ bytes of data, more than the limit of 1000 \(DocumentOptions\.MaxSnapshotBytes\)$",
                       await b.ExpectErrorAsync(Create(1, new string('z', 1000)), 1000));
    }

    [Fact]
    public async Task UseDocuments_refuses_a_snapshot_limit_above_the_message_size()
    {
        ArgumentOutOfRangeException refused = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => KestrelRealtimeHost.StartAsync(
            o => o.MaxMessageSize = 64 * 1024, server => server.UseDocuments()));
        Assert.Equal("DocumentOptions.MaxSnapshotBytes", refused.ParamName);
    }
}
