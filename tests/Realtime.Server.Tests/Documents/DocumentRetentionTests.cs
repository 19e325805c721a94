using System.Globalization;
using Realtime.TestSupport;
using static Realtime.Server.Tests.Documents.DocumentHost;

namespace Realtime.Server.Tests.Documents;

/// <summary><see cref="DocumentOptions.Retention"/>: history older than the newest milestone old enough is trimmed, and asking for it is
/// refused with code 13; without it, the whole log is kept.</summary>
public sealed class DocumentRetentionTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task With_retention_zero_history_below_the_newest_milestone_is_gone_and_asking_for_it_gets_code_13(bool retained)
    {
        var store = new InMemoryDocumentStore();
        await using KestrelRealtimeHost host = await StartAsync(o =>
        {
            o.Store = store;
            o.MilestoneInterval = 2;
            o.Retention = retained ? null : TimeSpan.Zero;
        });
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility: true);
        await a.AskAsync(Create(1, "0"));
        for (int i = 1; i <= 4; i++)
        {
            await a.AskAsync(Insert(i + 1, i, i, i.ToString(CultureInfo.InvariantCulture)));
        }

        // Milestones at versions 2 and 4: with retention zero, the log starts at 4.
        Assert.Equal(retained ? 0 : 4, (await store.GetOperationsAsync("room1", 0, null))[0].Version);
        Assert.Equal($$$"""{"id":"h5","data":{"id":"room1","v":5,"type":"{{{ListUri}}}","data":["0","1","2","3","4"]},"a":2}""",
                     await a.AskAsync("""{"a":2,"id":"h5","v":5}"""));
        Assert.Equal($$$"""{"id":"h4","data":{"id":"room1","v":4,"type":"{{{ListUri}}}","data":["0","1","2","3"]},"a":2}""",
                     await a.AskAsync("""{"a":2,"id":"h4","v":4}"""));
        if (retained)
        {
            Assert.Equal($$$"""{"id":"h1","data":{"id":"room1","v":1,"type":"{{{ListUri}}}","data":["0"]},"a":2}""", await a.AskAsync("""{"a":2,"id":"h1","v":1}"""));
        }
        else
        {
            Assert.StartsWith("Missing operations", await a.ExpectErrorAsync("""{"a":2,"id":"h1","v":1}""", 13));
            Assert.StartsWith("Missing operations", await a.ExpectErrorAsync("""{"a":0,"v":1}""", 13)); // the ops since 1
        }

        // The document itself is whole either way.
        Assert.Equal(Snapshot(0, "room1", 5, "0", "1", "2", "3", "4"), await a.AskAsync("""{"a":0}"""));
    }

    [Fact]
    public void Retention_needs_milestones()
        => Assert.Throws<ArgumentOutOfRangeException>(() => new DocumentOptions { MilestoneInterval = 0, Retention = TimeSpan.FromDays(1) }.Validate(1 << 20));
}
