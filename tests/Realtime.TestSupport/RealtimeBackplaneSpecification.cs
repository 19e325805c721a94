using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Realtime.Client;
using Realtime.Server;
using Realtime.Testing;
using Xunit;

namespace Realtime.TestSupport;

/// <summary>
/// What every <see cref="RealtimeBackplane"/> must do, against real Kestrel nodes and real clients: derive a test class, register the
/// backplane in <see cref="AddBackplane"/>, and every test here runs against it. A scale-out backplane runs on
/// <see cref="NodeCount"/> nodes that share it (a test may put members of one room on different nodes); the in-memory one on one.
/// </summary>
public abstract class RealtimeBackplaneSpecification : IAsyncLifetime
{
    private readonly List<RealtimeTestHost> _nodes = [];
    private readonly List<Connection> _connections = [];

    /// <summary>How many nodes share the backplane.</summary>
    protected virtual int NodeCount => 2;

    /// <summary>The nodes, started before each test (relay hooks: a client's message goes to the others in its room).</summary>
    protected IReadOnlyList<RealtimeTestHost> Nodes => _nodes;

    /// <summary>Registers the backplane under test in one node's services (called once per node, before <c>AddRealtime</c>).</summary>
    protected abstract void AddBackplane(IServiceCollection services, int node);

    public async Task InitializeAsync()
    {
        for (int i = 0; i < NodeCount; i++)
        {
            int node = i;
            _nodes.Add(await RealtimeTestHost.StartAsync(configureBuilder: b => AddBackplane(b.Services, node)).DefaultTimeout("a node to start"));
        }
    }

    public async Task DisposeAsync()
    {
        foreach (Connection connection in _connections)
        {
            await connection.DisposeAsync();
        }

        foreach (RealtimeTestHost node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    [BackplaneFact]
    public async Task A_broadcast_from_any_node_reaches_every_member_on_every_node_once_in_one_order_for_all()
    {
        ConnectionRecorder[] members = await ConnectMembersAsync("ordered", perNode: 2);
        const int PerPublisher = 50;
        int publishers = 2 * _nodes.Count; // two concurrent publishers on each node
        await Task.WhenAll(Enumerable.Range(0, publishers).Select(n => Task.Run(async () =>
        {
            for (int i = 0; i < PerPublisher; i++)
            {
                await _nodes[n % _nodes.Count].Server.BroadcastAsync("ordered", new { n, i }, "seq");
            }
        })));

        // A last broadcast from every node: once a member has them all, anything sent before them has arrived (or never will).
        foreach (RealtimeTestHost node in _nodes)
        {
            await node.Server.BroadcastAsync("ordered", "end", "end");
        }

        foreach (ConnectionRecorder member in members)
        {
            await member.WaitForCountAsync("message:end", _nodes.Count);
        }

        int expected = PerPublisher * publishers;
        string[] first = Sequence(members[0]);
        Assert.Equal(expected, first.Length);
        Assert.Equal(expected, first.Distinct().Count());
        foreach (ConnectionRecorder member in members)
        {
            Assert.Equal(first, Sequence(member));
        }

        // Each publisher's own broadcasts keep their order.
        for (int n = 0; n < publishers; n++)
        {
            int[] ofPublisher = first.Select(s => JsonDocument.Parse(s).RootElement).Where(e => e.GetProperty("n").GetInt32() == n)
                                     .Select(e => e.GetProperty("i").GetInt32()).ToArray();
            Assert.Equal(Enumerable.Range(0, PerPublisher), ofPublisher);
        }
    }

    [BackplaneFact]
    public async Task A_relayed_message_skips_its_sender_and_reaches_every_other_member_on_every_node()
    {
        ConnectionRecorder[] members = await ConnectMembersAsync("relay", perNode: 2);
        await members[0].Connection.SendAsync(new { hello = "all" }, "greeting");
        foreach (ConnectionRecorder other in members.Skip(1))
        {
            await other.WaitForEventAsync("message:greeting");
        }

        // The sender's own next broadcast to itself (includeSelf) shows that it was excluded from the first, not merely slow.
        ServerConnection sender = (await FindAsync(members[0].Connection.Id!))!;
        sender.Broadcast("mark", "mark", includeSelf: true);
        await members[0].WaitForEventAsync("message:mark");
        Assert.DoesNotContain("message:greeting", members[0].Events);
        Assert.All(members.Skip(1), m => Assert.Single(m.Events, "message:greeting"));
    }

    [BackplaneFact]
    public async Task Membership_is_the_cluster_s_from_every_node_and_follows_joins_and_leaves()
    {
        ConnectionRecorder[] members = await ConnectMembersAsync("members", perNode: 2);
        string[] ids = members.Select(m => m.Connection.Id!).Order(StringComparer.Ordinal).ToArray();
        foreach (RealtimeTestHost node in _nodes)
        {
            Assert.Equal(ids, (await node.Server.GetConnectionIdsAsync("members")).Order(StringComparer.Ordinal));
            Assert.Equal(ids.Length, await node.Server.GetRoomConnectionCountAsync("members"));
            Assert.Contains("members", await node.Server.GetRoomsAsync());
            Assert.True(await node.Server.GetConnectionCountAsync() >= ids.Length);
        }

        string leaver = members[^1].Connection.Id!;
        await members[^1].Connection.CloseAsync();
        await WaitForAsync(async () => !(await _nodes[0].Server.GetConnectionIdsAsync("members")).Contains(leaver), "the leaver to leave the membership");
        foreach (RealtimeTestHost node in _nodes)
        {
            Assert.Equal(ids.Where(id => id != leaver), (await node.Server.GetConnectionIdsAsync("members")).Order(StringComparer.Ordinal));
        }

        foreach (ConnectionRecorder member in members[..^1])
        {
            await member.Connection.CloseAsync();
        }

        await WaitForAsync(async () => !(await _nodes[0].Server.GetRoomsAsync()).Contains("members"), "the empty room to disappear");
        Assert.Empty(await _nodes[^1].Server.GetConnectionIdsAsync("members"));
        Assert.Equal(0, await _nodes[^1].Server.GetRoomConnectionCountAsync("members"));
    }

    [BackplaneFact]
    public async Task Send_and_close_by_id_reach_a_connection_on_any_node_and_an_unknown_id_is_not_found()
    {
        ConnectionRecorder[] members = await ConnectMembersAsync("direct", perNode: 1);
        ConnectionRecorder target = members[^1];
        RealtimeServer sender = _nodes[0].Server;

        Assert.True(await sender.SendAsync(target.Connection.Id!, new { only = "you" }, "direct").DefaultTimeout("SendAsync"));
        await target.WaitForEventAsync("message:direct");
        Assert.All(members[..^1], m => Assert.DoesNotContain("message:direct", m.Events));

        string unknown = ConnectionId.New();
        Assert.False(await sender.SendAsync(unknown, "nobody", "direct").DefaultTimeout("SendAsync to an unknown id"));
        Assert.False(await sender.CloseAsync(unknown).DefaultTimeout("CloseAsync of an unknown id"));

        Assert.True(await sender.CloseAsync(target.Connection.Id!).DefaultTimeout("CloseAsync"));
        await target.WaitForEventAsync("disconnect:" + DisconnectReason.ServerDisconnect);
    }

    [BackplaneFact]
    public async Task A_member_that_has_its_welcome_receives_every_broadcast_sent_after_it_from_any_node()
    {
        for (int round = 0; round < 10; round++)
        {
            string room = "fresh" + round; // a new room each time: its first join subscribes it
            RealtimeTestHost joinNode = _nodes[round % _nodes.Count];
            RealtimeTestHost sendNode = _nodes[(round + 1) % _nodes.Count];
            ConnectionRecorder member = await ConnectAsync(joinNode, room);
            await sendNode.Server.BroadcastAsync(room, round, "after-welcome");
            await member.WaitForEventAsync("message:after-welcome");
        }
    }

    [BackplaneFact]
    public async Task Concurrent_joins_and_leaves_across_nodes_leave_exactly_the_members_that_stayed()
    {
        ConnectionRecorder[] stayers = await ConnectMembersAsync("churn", perNode: 1);
        await Task.WhenAll(Enumerable.Range(0, 4 * _nodes.Count).Select(i => Task.Run(async () =>
        {
            for (int j = 0; j < 5; j++)
            {
                ConnectionRecorder passer = await ConnectAsync(_nodes[(i + j) % _nodes.Count], "churn");
                await passer.Connection.CloseAsync();
            }
        })));

        string[] expected = stayers.Select(m => m.Connection.Id!).Order(StringComparer.Ordinal).ToArray();
        await WaitForAsync(async () => (await _nodes[0].Server.GetConnectionIdsAsync("churn")).Count == expected.Length, "the passers to leave");
        foreach (RealtimeTestHost node in _nodes)
        {
            Assert.Equal(expected, (await node.Server.GetConnectionIdsAsync("churn")).Order(StringComparer.Ordinal));
        }

        await _nodes[^1].Server.BroadcastAsync("churn", "still here", "after-churn");
        foreach (ConnectionRecorder stayer in stayers)
        {
            await stayer.WaitForEventAsync("message:after-churn");
        }
    }

    [BackplaneFact]
    public async Task Member_states_are_the_cluster_s_added_replaced_refused_beyond_the_limit_and_removed_once()
    {
        RealtimeBackplane first = _nodes[0].Services.GetRequiredService<RealtimeBackplane>();
        RealtimeBackplane last = _nodes[^1].Services.GetRequiredService<RealtimeBackplane>();
        CancellationToken none = CancellationToken.None;
        foreach (string member in new[] { "c1", "c2", "c3" })
        {
            await first.AddMemberAsync("states", member, none); // a backplane may count (and show) the states of members only
        }

        Assert.Equal(MemberStateChange.Added, await first.SetMemberStateAsync("states", "f", "c1", "1"u8.ToArray(), 2, none));
        Assert.Equal(MemberStateChange.Replaced, await last.SetMemberStateAsync("states", "f", "c1", "11"u8.ToArray(), 2, none));
        Assert.Equal(MemberStateChange.Added, await last.SetMemberStateAsync("states", "f", "c2", "2"u8.ToArray(), 2, none));
        Assert.Equal(MemberStateChange.Refused, await first.SetMemberStateAsync("states", "f", "c3", "3"u8.ToArray(), 2, none));
        Assert.Equal(MemberStateChange.Added, await first.SetMemberStateAsync("states", "other", "c3", "3"u8.ToArray(), 2, none)); // per feature
        Assert.Equal(MemberStateChange.Added, await first.SetMemberStateAsync("elsewhere", "f", "c3", "3"u8.ToArray(), 2, none)); // per room

        // Read from any node.
        try
        {
            IReadOnlyDictionary<string, ReadOnlyMemory<byte>> states = await last.GetMemberStatesAsync("states", "f", none);
            Assert.Equal(["c1", "c2"], states.Keys.Order(StringComparer.Ordinal));
            Assert.Equal("11", System.Text.Encoding.UTF8.GetString(states["c1"].Span));
            Assert.True(await first.RemoveMemberStateAsync("states", "f", "c1", none));
            Assert.False(await last.RemoveMemberStateAsync("states", "f", "c1", none));
            Assert.Equal(["c2"], (await first.GetMemberStatesAsync("states", "f", none)).Keys);
        }
        finally
        {
            await first.RemoveMemberStateAsync("states", "other", "c3", none);
            await first.RemoveMemberStateAsync("elsewhere", "f", "c3", none);
            foreach (string member in new[] { "c1", "c2", "c3" })
            {
                await first.RemoveMemberAsync("states", member, none);
            }
        }
    }

    [BackplaneFact]
    public async Task Presence_set_on_one_node_reaches_subscribers_on_every_node_and_a_late_joiner_gets_every_state()
    {
        foreach (RealtimeTestHost node in _nodes)
        {
            node.Server.UsePresence();
        }

        ConnectionRecorder[] members = await ConnectMembersAsync("presence", perNode: 1);
        foreach (ConnectionRecorder member in members)
        {
            member.Connection.Send("""{"a":"s"}""", "presence");
            await member.WaitForCountAsync("message:presence", 1);
        }

        members[0].Connection.Send("""{"a":"d","presence":{"n":0}}""", "presence");
        members[0].Connection.Send("""{"a":"s"}""", "presence"); // answered after the set is applied (a connection's messages keep their order)
        await members[0].WaitForCountAsync("message:presence", 2);
        foreach (ConnectionRecorder other in members.Skip(1))
        {
            await other.WaitForCountAsync("message:presence", 2);
            Assert.Equal($$$$"""{"a":"a","presences":{"{{{{members[0].Connection.Id}}}}":{"n":0}}}""", other.Messages.Last(m => m.Type == "presence").Data.GetString());
        }

        ConnectionRecorder late = await ConnectAsync(_nodes[^1], "presence");
        late.Connection.Send("""{"a":"s"}""", "presence");
        await late.WaitForCountAsync("message:presence", 1);
        Assert.Equal($$$$"""{"a":"s","presences":{"{{{{members[0].Connection.Id}}}}":{"n":0}}}""", late.Messages.Single(m => m.Type == "presence").Data.GetString());
        Assert.Equal(2, members[0].Events.Count(e => e == "message:presence")); // the sender heard only its own two snapshots
    }

    /// <summary>Connects <paramref name="perNode"/> members of a room on every node; each is in its room when this returns.</summary>
    protected async Task<ConnectionRecorder[]> ConnectMembersAsync(string roomId, int perNode)
    {
        var members = new List<ConnectionRecorder>();
        foreach (RealtimeTestHost node in _nodes)
        {
            for (int i = 0; i < perNode; i++)
            {
                members.Add(await ConnectAsync(node, roomId));
            }
        }

        return [.. members];
    }

    /// <summary>Connects one client to a node (it has its <c>welcome</c> when this returns).</summary>
    protected async Task<ConnectionRecorder> ConnectAsync(RealtimeTestHost node, string roomId)
    {
        var client = new Client.Client(node.Url.ToString(), new ClientOptions { Reconnection = false });
        Connection connection = await client.ConnectAsync(roomId).DefaultTimeout("a client to connect");
        lock (_connections)
        {
            _connections.Add(connection);
        }

        return new ConnectionRecorder(connection);
    }

    private async Task<ServerConnection?> FindAsync(string connectionId)
    {
        ServerConnection? found = null;
        await WaitForAsync(() => Task.FromResult((found = _nodes.Select(n => n.Server.GetConnection(connectionId)).FirstOrDefault(c => c is not null)) is not null),
                           $"connection {connectionId} on a node");
        return found;
    }

    private static string[] Sequence(ConnectionRecorder member)
        => member.Messages.Where(m => m.Type == "seq").Select(m => m.Data.GetRawText()).ToArray();

    /// <summary>Polls a cluster query until it holds (membership is eventually consistent across nodes for some backplanes).</summary>
    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        using var timeout = new CancellationTokenSource(TaskTimeoutExtensions.DefaultTimeoutSpan);
        while (!await condition())
        {
            if (timeout.IsCancellationRequested)
            {
                throw new TimeoutException($"Timed out waiting for {what}.");
            }

            await Task.Delay(20); // sleep-ok: polling a query of the backplane, which raises no event
        }
    }
}
