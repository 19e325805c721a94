using System.Text;
using Realtime.Server.Internal.Documents;

namespace Realtime.Server.Tests.Units;

/// <summary>A document's last committed ops (<see cref="ActiveDocument.Recent"/>): given only when every one asked for is kept and the live
/// snapshot is at the version asked for; dropped with the live snapshot.</summary>
public sealed class RecentOpsTests
{
    [Fact]
    public void The_ops_since_a_version_come_back_only_while_all_are_kept_and_the_live_snapshot_is_current()
    {
        var document = new ActiveDocument("d");
        document.Set(0, "t", null, "one"); // the life the ops below belong to
        for (long v = 0; v < 20; v++)
        {
            document.Remember(new CommittedOp(Op(v)));
        }

        document.Set(20, "t", null, "one");
        DocumentRecord at20 = new(20, "t") { Incarnation = "one" };
        Assert.Equal([17L, 18L, 19L], document.Recent(17, at20)!.Select(op => op.Operation.Version));
        Assert.Equal(ActiveDocument.RecentCapacity, document.Recent(20 - ActiveDocument.RecentCapacity, at20)!.Length);
        Assert.Null(document.Recent(20 - ActiveDocument.RecentCapacity - 1, at20)); // the oldest were overwritten
        Assert.Null(document.Recent(17, at20 with { Version = 21 })); // the store is at 21: another writer committed 20
        Assert.Null(document.Recent(17, at20 with { Incarnation = "two" })); // deleted and created again elsewhere, at the same version
        Assert.Empty(document.Recent(20, at20)!);

        document.Set(21, "t", null, "one"); // a version no op was remembered for
        Assert.Null(document.Recent(19, at20 with { Version = 21 }));

        document.Invalidate();
        Assert.Equal(-1, document.Version);
        document.Set(20, "t", null, "one");
        Assert.Null(document.Recent(19, at20)); // dropped with the live snapshot

        document.Remember(new CommittedOp(Op(20)));
        document.Set(21, "t", null, "two");
        Assert.Null(document.Recent(20, at20 with { Version = 21, Incarnation = "two" })); // another life's ops go when its snapshot comes
    }

    [Fact]
    public void A_kept_op_is_parsed_once_and_its_message_is_the_broadcast_form()
    {
        var op = new CommittedOp(Op(3));
        Assert.Same(op.Parsed, op.Parsed);
        Assert.Equal("""{"a":5,"v":3,"src":"s","seq":3,"op":[3]}""", op.Wire.Data.GetRawText());
    }

    private static DocumentOperation Op(long version)
        => new(version, "s", version, DocumentOperationKind.Op, Encoding.UTF8.GetBytes($"[{version}]"));
}
