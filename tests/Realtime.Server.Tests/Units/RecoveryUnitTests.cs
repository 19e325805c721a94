extern alias server;

using System.Text;
using System.Text.Json;
using Realtime.Protocol;
using Realtime.Server.Internal;
using Realtime.Server.Internal.Protocols;
using Realtime.Server.Internal.Recovery;
using OutboundFrame = server::Realtime.Internal.OutboundFrame;

namespace Realtime.Server.Tests.Units;

/// <summary>
/// Recovery's parts without a socket: a room's history (numbering, bounds, restarts, the replay a joiner gets and the live
/// broadcasts it then skips), resume tokens, the room patterns and the options' validation.
/// </summary>
public class RecoveryUnitTests
{
    private static readonly ProtocolV1 V1 = new(JsonSerializerOptions.Default);
    private long _now = 1_000_000;

    [Fact]
    public void A_history_numbers_broadcasts_in_its_own_epoch_from_1_and_keeps_at_most_MaxMessages()
    {
        RoomHistory history = NewHistory(maxMessages: 3);
        Assert.Equal(0, history.Last.Sequence);
        Assert.Equal(8, history.Last.Epoch.Length);
        for (int i = 1; i <= 5; i++)
        {
            RoomBroadcast broadcast = Broadcast(i);
            RoomPosition? position = history.Append(broadcast, _now);
            Assert.Equal(new RoomPosition(history.Last.Epoch, i), position);
            Assert.Equal(position, broadcast.Position);
        }

        Assert.Equal(3, history.Count);
        Assert.Equal(2, history.Base.Sequence); // 3, 4 and 5 are kept
        Assert.True(history.Reaches(new RoomPosition(history.Last.Epoch, 2), _now));
        Assert.False(history.Reaches(new RoomPosition(history.Last.Epoch, 1), _now));
        Assert.False(history.Reaches(new RoomPosition(history.Last.Epoch, 6), _now)); // never reached
        Assert.False(history.Reaches(new RoomPosition("other", 3), _now));
    }

    [Fact]
    public void In_a_room_the_backplane_numbers_a_broadcast_without_a_position_is_neither_positioned_nor_kept()
    {
        RoomHistory history = NewHistory();
        history.Starts(new RoomPosition("e1", 10));
        history.Append(Broadcast(1, new RoomPosition("e1", 11)), _now);

        // The backplane's realtime.gap report (one broadcast, 12, was lost on its link) is not in the room's order.
        RoomBroadcast gap = Broadcast(2);
        Assert.Null(history.Append(gap, _now));
        Assert.Null(gap.Position);
        Assert.Equal(1, history.Count);
        Assert.Equal(new RoomPosition("e1", 11), history.Last);

        // What follows the hole starts the ring again: nothing before it can be replayed as if whole.
        history.Append(Broadcast(3, new RoomPosition("e1", 13)), _now);
        Assert.Equal(new RoomPosition("e1", 12), history.Base);
        Assert.False(history.Reaches(new RoomPosition("e1", 11), _now));
        Assert.True(history.Reaches(new RoomPosition("e1", 12), _now));
    }

    [Fact]
    public void Broadcasts_older_than_MaxAge_leave_the_history()
    {
        RoomHistory history = NewHistory(maxAge: TimeSpan.FromSeconds(10));
        history.Append(Broadcast(1), _now);
        _now += 6_000;
        history.Append(Broadcast(2), _now);
        _now += 5_000; // the first is 11 s old, the second 5 s
        Assert.False(history.Reaches(new RoomPosition(history.Last.Epoch, 0), _now));
        Assert.True(history.Reaches(new RoomPosition(history.Last.Epoch, 1), _now));
        Assert.Equal(1, history.Count);
    }

    [Fact]
    public void A_backplane_s_positions_are_kept_and_one_that_does_not_follow_starts_the_ring_again_after_it()
    {
        RoomHistory history = NewHistory();
        history.Starts(new RoomPosition("e1", 10));
        Assert.Equal(new RoomPosition("e1", 10), history.Last);
        history.Append(Broadcast(1, new RoomPosition("e1", 11)), _now);
        history.Append(Broadcast(2, new RoomPosition("e1", 12)), _now);
        Assert.Equal(2, history.Count);

        history.Append(Broadcast(3, new RoomPosition("e1", 15)), _now); // a gap: what came before cannot be replayed whole
        Assert.Equal(1, history.Count);
        Assert.Equal(new RoomPosition("e1", 14), history.Base);

        history.Append(Broadcast(4, new RoomPosition("e2", 1)), _now); // a new epoch
        Assert.Equal(new RoomPosition("e2", 0), history.Base);
        Assert.Equal(1, history.Count);

        history.Starts(new RoomPosition("e2", 1)); // continuous: kept
        Assert.Equal(1, history.Count);
        history.Starts(new RoomPosition("e2", 7)); // not: starts again there
        Assert.Equal(0, history.Count);
        Assert.Equal(new RoomPosition("e2", 7), history.Last);
    }

    [Fact]
    public void A_resuming_member_gets_its_welcome_then_what_it_missed_in_order_without_channel_broadcasts_or_its_own_and_then_skips_nothing_newer()
    {
        RoomHistory history = NewHistory();
        string epoch = history.Last.Epoch;
        history.Append(Broadcast(1), _now);
        RoomPosition after = history.Last;
        history.Append(Broadcast(2), _now);
        history.Append(Broadcast(3, except: "former-connection-id1"), _now); // it sent this one itself
        history.Append(Broadcast(4, channel: "presence"), _now);
        history.Append(Broadcast(5), _now);

        var member = new Member("r", new RecoveryState("token", after.ToString()));
        var join = new TestJoin { After = after, FormerConnectionId = "former-connection-id1", Offered = true };
        Assert.Equal(2, history.Admit(member, join, fetched: null, _now));
        Assert.Equal(["welcome " + after + " True", Msg(2, epoch), Msg(5, epoch)], member.Frames);
        Assert.False(member.Recovery!.Skips(new RoomPosition(epoch, 6)));
    }

    [Fact]
    public void Broadcasts_fetched_from_the_backplane_come_first_and_the_live_ones_they_covered_are_skipped_once()
    {
        RoomHistory history = NewHistory();
        history.Starts(new RoomPosition("e", 5));
        history.Append(Broadcast(6, new RoomPosition("e", 6)), _now);
        var member = new Member("r", new RecoveryState("token", "e:2"));
        var join = new TestJoin { After = new RoomPosition("e", 2), Offered = true };
        RoomBroadcast[] fetched = [Broadcast(3, new RoomPosition("e", 3)), Broadcast(4, new RoomPosition("e", 4)), Broadcast(5, new RoomPosition("e", 5)),
                                   Broadcast(6, new RoomPosition("e", 6)), Broadcast(7, new RoomPosition("e", 7))]; // the feed is behind the log here
        Assert.Equal(5, history.Admit(member, join, fetched, _now));
        Assert.Equal(["welcome e:2 True", Msg(3, "e"), Msg(4, "e"), Msg(5, "e"), Msg(6, "e"), Msg(7, "e")], member.Frames);
        Assert.True(member.Recovery!.Skips(new RoomPosition("e", 7))); // the feed delivers 7 later: replayed already
        Assert.False(member.Recovery.Skips(new RoomPosition("e", 8)));
        Assert.False(member.Recovery.Skips(new RoomPosition("e", 7))); // the mark is gone after the first broadcast past it
    }

    [Theory]
    [InlineData("e:1", "a position older than the history holds")]
    [InlineData("e:9", "a position the room never reached")]
    [InlineData("f:3", "another epoch")]
    public void A_member_whose_missed_broadcasts_are_not_all_held_is_not_recovered_and_gets_the_room_s_position(string offered, string why)
    {
        _ = why;
        RoomHistory history = NewHistory();
        history.Starts(new RoomPosition("e", 2));
        history.Append(Broadcast(3, new RoomPosition("e", 3)), _now);
        history.Append(Broadcast(4, new RoomPosition("e", 4)), _now);
        Assert.True(RoomPosition.TryParse(offered, out RoomPosition after));
        var member = new Member("r", new RecoveryState("token", offered));
        Assert.Equal(-1, history.Admit(member, new TestJoin { After = after, Offered = true }, fetched: null, _now));
        Assert.Equal(["welcome e:4 False"], member.Frames);
    }

    [Fact]
    public void More_missed_broadcasts_than_MaxMessages_or_than_the_queue_holds_is_not_recovered()
    {
        RoomHistory history = NewHistory(maxMessages: 10);
        history.Starts(new RoomPosition("e", 0));
        RoomBroadcast[] fetched = [.. Enumerable.Range(1, 11).Select(i => Broadcast(i, new RoomPosition("e", i)))];
        var member = new Member("r", new RecoveryState("token", "e:0"));
        Assert.Equal(-1, history.Admit(member, new TestJoin { After = new RoomPosition("e", 0), Offered = true }, fetched, _now));

        for (int i = 1; i <= 5; i++)
        {
            history.Append(Broadcast(i, new RoomPosition("e", i)), _now);
        }

        var full = new Member("r", new RecoveryState("token", "e:0")) { Room = 5 }; // room for the welcome and 4 more only
        Assert.Equal(-1, history.Admit(full, new TestJoin { After = new RoomPosition("e", 0), Offered = true }, fetched: null, _now));
        Assert.Equal(["welcome e:5 False"], full.Frames);
    }

    [Fact]
    public void A_fresh_member_gets_the_room_s_position_and_no_recovered_field()
    {
        RoomHistory history = NewHistory();
        history.Append(Broadcast(1), _now);
        var member = new Member("r", new RecoveryState(null, null));
        Assert.Equal(0, history.Admit(member, new TestJoin(), fetched: null, _now));
        Assert.Equal(["welcome " + history.Last + " "], member.Frames);
    }

    [Fact]
    public async Task The_room_index_positions_broadcasts_for_members_that_ask_keeps_the_history_after_the_last_leave_and_sweeps_it_after_MaxAge()
    {
        var policy = new HistoryPolicy(new RecoveryOptions { Enabled = true, MaxAge = TimeSpan.FromSeconds(5) }, long.MaxValue, () => _now);
        var index = new RoomIndex<Member>(_ => ValueTask.CompletedTask, _ => ValueTask.CompletedTask, (_, _) => { }, policy);
        var plain = new Member("r", recovery: null);
        var asking = new Member("r", new RecoveryState(null, null));
        Assert.True(await index.AddAsync(plain, new OutboundFrame(new byte[] { 1 }, IsBinary: false)));
        (bool created, int replayed) = await index.AddAsync(asking, new TestJoin());
        Assert.False(created);
        Assert.Equal(0, replayed);
        string epoch = asking.Frames[0].Split(' ')[1].Split(':')[0];

        index.Deliver(Broadcast(1), except: null, long.MaxValue, channelMask: 0, out int recipients, out _);
        Assert.Equal(2, recipients);
        Assert.Equal("{\"t\":\"msg\",\"type\":\"t\",\"data\":{\"n\":1}}", plain.Frames[^1]);
        Assert.Equal(Msg(1, epoch), asking.Frames[^1]);

        index.Remove(plain);
        Assert.True(index.Remove(asking));
        index.Deliver(Broadcast(2), except: null, long.MaxValue, channelMask: 0, out recipients, out _); // nobody here: kept all the same
        Assert.Equal(0, recipients);
        Assert.Equal(1, index.HistoryCount);

        var back = new Member("r", new RecoveryState("token", epoch + ":1"));
        (_, replayed) = await index.AddAsync(back, new TestJoin { After = new RoomPosition(epoch, 1), Offered = true });
        Assert.Equal(1, replayed);
        Assert.Equal(["welcome " + epoch + ":1 True", Msg(2, epoch)], back.Frames);
        Assert.True(index.Remove(back));

        _now += 4_000;
        index.SweepHistories();
        Assert.Equal(1, index.HistoryCount);
        _now += 2_000;
        index.SweepHistories();
        Assert.Equal(0, index.HistoryCount);
    }

    [Fact]
    public async Task A_live_broadcast_the_replay_already_gave_from_the_backplane_s_log_is_not_sent_again_and_the_others_still_get_it()
    {
        var policy = new HistoryPolicy(new RecoveryOptions { Enabled = true }, long.MaxValue, () => _now);
        var index = new RoomIndex<Member>(_ => ValueTask.CompletedTask, _ => ValueTask.CompletedTask, (_, _) => { }, policy);
        var other = new Member("r", new RecoveryState(null, null));
        await index.AddAsync(other, new TestJoin());
        index.HistoryStarts("r", new RoomPosition("e", 5)); // the feed on this node starts after 5; the log has reached 7
        var back = new Member("r", new RecoveryState("token", "e:2"));
        RoomBroadcast[] log = [.. Enumerable.Range(3, 5).Select(i => Broadcast(i, new RoomPosition("e", i)))];
        (_, int replayed) = await index.AddAsync(back, new TestJoin { After = new RoomPosition("e", 2), Offered = true, Log = log });
        Assert.Equal(5, replayed);

        for (int i = 6; i <= 8; i++)
        {
            index.Deliver(Broadcast(i, new RoomPosition("e", i)), except: null, long.MaxValue, channelMask: 0, out _, out _);
        }

        Assert.Equal(["welcome e:2 True", Msg(3, "e"), Msg(4, "e"), Msg(5, "e"), Msg(6, "e"), Msg(7, "e"), Msg(8, "e")], back.Frames);
        Assert.Equal([Msg(6, "e"), Msg(7, "e"), Msg(8, "e")], other.Frames.Skip(1));
    }

    [Fact]
    public async Task Rooms_that_no_pattern_names_keep_no_history_and_cost_nothing_more()
    {
        var policy = new HistoryPolicy(new RecoveryOptions { Enabled = true, Rooms = { "doc-*" } }, long.MaxValue, () => _now);
        var index = new RoomIndex<Member>(_ => ValueTask.CompletedTask, _ => ValueTask.CompletedTask, (_, _) => { }, policy);
        var member = new Member("chat", new RecoveryState("token", "e:1"));
        (_, int replayed) = await index.AddAsync(member, new TestJoin { Offered = true });
        Assert.Equal(0, replayed);
        Assert.Equal(["welcome  False"], member.Frames);
        RoomBroadcast broadcast = Broadcast(1);
        index.Deliver(broadcast, except: null, long.MaxValue, channelMask: 0, out _, out _);
        Assert.Null(broadcast.Position);
        Assert.Equal(0, index.HistoryCount);
    }

    [Theory]
    [InlineData("doc-*", "doc-1", true)]
    [InlineData("doc-*", "doc-", true)]
    [InlineData("doc-*", "chat", false)]
    [InlineData("*-draft", "a-draft", true)]
    [InlineData("*-draft", "a-draft2", false)]
    [InlineData("a*b*c", "aXXbYc", true)]
    [InlineData("a*b*c", "aXXcYb", false)]
    [InlineData("room1", "room1", true)]
    [InlineData("room1", "Room1", false)]
    [InlineData("*", "", true)]
    public void Room_patterns_match_with_star_as_any_run_of_characters(string pattern, string roomId, bool matches)
        => Assert.Equal(matches, new RecoveryOptions { Enabled = true, Rooms = { pattern } }.KeepsHistory(roomId));

    [Fact]
    public void A_token_is_accepted_for_its_room_and_identity_under_its_key_only_and_carries_its_grant()
    {
        byte[] key = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        string id = ConnectionId.New();
        var grant = new ResumeGrant(new RoomPosition("1733600000.123456", 41), 41, 43);
        string token = ResumeTokens.Issue(key, id, "room1", "ann", grant)!;
        Assert.InRange(token.Length, 1, Protocol.ProtocolLimits.MaxResumeTokenLength);
        Assert.True(ResumeTokens.TryRead(key, token, "room1", "ann", out string named, out ResumeGrant read));
        Assert.Equal(id, named);
        Assert.Equal(grant, read);

        Assert.False(ResumeTokens.TryRead(key, token, "room2", "ann", out _, out _));
        Assert.False(ResumeTokens.TryRead(key, token, "room1", "bob", out _, out _));
        byte[] otherKey = (byte[])key.Clone();
        otherKey[0] ^= 1;
        Assert.False(ResumeTokens.TryRead(otherKey, token, "room1", "ann", out _, out _));
        char[] forged = token.ToCharArray();
        forged[^1] = forged[^1] == 'A' ? 'B' : 'A';
        Assert.False(ResumeTokens.TryRead(key, new string(forged), "room1", "ann", out _, out _));
        string otherId = ConnectionId.New();
        string swapped = ResumeTokens.Issue(key, otherId, "room1", "ann", grant)![..27] + token[27..]; // another id with this token's signature
        Assert.False(ResumeTokens.TryRead(key, swapped, "room1", "ann", out _, out _));
        string earlier = ResumeTokens.Issue(key, id, "room1", "ann", ResumeGrant.From(new RoomPosition("1733600000.123456", 0)))!;
        Assert.False(ResumeTokens.TryRead(key, earlier[..^22] + token[^22..], "room1", "ann", out _, out _)); // another start under this signature
        Assert.False(ResumeTokens.TryRead(key, "", "room1", "ann", out _, out _));
        Assert.False(ResumeTokens.TryRead(key, new string('*', 48), "room1", "ann", out _, out _));
        Assert.False(ResumeTokens.TryRead(key, token + "AAAA", "room1", "ann", out _, out _));
        Assert.Null(ResumeTokens.Issue(key, id, "room1", "ann", ResumeGrant.From(new RoomPosition(new string('é', 40), 1)))); // an epoch too long to carry
    }

    [Fact]
    public void A_grant_allows_no_position_before_its_connection_s_start_nor_another_epoch()
    {
        ResumeGrant grant = ResumeGrant.From(new RoomPosition("e", 50));
        Assert.True(grant.Allows(new RoomPosition("e", 50)));
        Assert.True(grant.Allows(new RoomPosition("e", 70)));
        Assert.False(grant.Allows(new RoomPosition("e", 0))); // a new member asking for the room's past
        Assert.False(grant.Allows(new RoomPosition("e", 49)));
        Assert.False(grant.Allows(new RoomPosition("f", 60)));

        ResumeGrant beforeFirst = ResumeGrant.From(new RoomPosition("", 0)); // joined before the room's first broadcast: all of it is its
        Assert.True(beforeFirst.Allows(new RoomPosition("", 0)));
        Assert.True(beforeFirst.Allows(new RoomPosition("e", 3)));
    }

    [Fact]
    public void A_client_s_own_broadcasts_at_the_end_of_a_replay_stay_unsent_when_it_resumes_again_from_the_same_position()
    {
        RoomHistory history = NewHistory();
        string epoch = history.Last.Epoch;
        history.Append(Broadcast(1), _now);
        RoomPosition after = history.Last;
        history.Append(Broadcast(2, except: "former-connection-id1"), _now); // it sent this one, then dropped

        var second = new Member("r", new RecoveryState("token", after.ToString()));
        var join = new TestJoin { After = after, FormerConnectionId = "former-connection-id1", Offered = true };
        Assert.Equal(0, history.Admit(second, join, fetched: null, _now));
        ResumeGrant grant = Assert.IsType<ResumeGrant>(join.Grant);
        Assert.Equal(new ResumeGrant(after, 1, 2), grant); // its start, and its own tail: 2

        // It drops again before anything newer: its position is still 1, and its own broadcast is still not its to receive.
        var third = new Member("r", new RecoveryState("token", after.ToString()));
        Assert.Equal(0, history.Admit(third, new TestJoin { After = after, FormerConnectionId = "second-connection-id", Former = grant, Offered = true }, fetched: null, _now));
        Assert.Equal(["welcome " + after + " True"], third.Frames);

        history.Append(Broadcast(3), _now);
        var fourth = new Member("r", new RecoveryState("token", after.ToString()));
        Assert.Equal(1, history.Admit(fourth, new TestJoin { After = after, FormerConnectionId = "third-connection-id", Former = grant, Offered = true }, fetched: null, _now));
        Assert.Equal(["welcome " + after + " True", Msg(3, epoch)], fourth.Frames);
    }

    [Fact]
    public void A_history_keeps_no_more_bytes_than_a_connection_s_queue_holds()
    {
        var history = new RoomHistory(new HistoryPolicy(new RecoveryOptions { Enabled = true }, long.MaxValue, () => _now, maxBytes: 1000));
        for (int i = 1; i <= 10; i++)
        {
            history.Append(new RoomBroadcast("r", new Message("t", new byte[300]), null, "node"), _now); // 300 + 1 + 64 bytes each
        }

        Assert.Equal(2, history.Count); // 730 bytes; a third would be 1 095
        Assert.Equal(10, history.Last.Sequence);
        Assert.False(history.Reaches(new RoomPosition(history.Last.Epoch, 7), _now));
        Assert.True(history.Reaches(new RoomPosition(history.Last.Epoch, 8), _now));
    }

    [Theory]
    [InlineData(0, 60, "MaxMessages")]
    [InlineData(1_000_001, 60, "MaxMessages")]
    [InlineData(10, 0.5, "MaxAge")]
    [InlineData(10, 86_401, "MaxAge")]
    public void Recovery_options_out_of_range_are_refused_at_start(int maxMessages, double maxAgeSeconds, string setting)
    {
        var options = new RealtimeOptions();
        options.Recovery.MaxMessages = maxMessages;
        options.Recovery.MaxAge = TimeSpan.FromSeconds(maxAgeSeconds);
        var result = new RealtimeOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains("Realtime:Recovery:" + setting, result.FailureMessage, StringComparison.Ordinal);

        options.Recovery.MaxMessages = 1_000_000;
        options.Recovery.MaxAge = TimeSpan.FromDays(1);
        Assert.True(new RealtimeOptionsValidator().Validate(null, options).Succeeded);
    }

    private static string Msg(int n, string epoch) => $"{{\"t\":\"msg\",\"type\":\"t\",\"data\":{{\"n\":{n}}},\"pos\":\"{epoch}:{n}\"}}";

    private RoomHistory NewHistory(int maxMessages = 1000, TimeSpan? maxAge = null)
        => new(new HistoryPolicy(new RecoveryOptions { Enabled = true, MaxMessages = maxMessages, MaxAge = maxAge ?? TimeSpan.FromMinutes(2) }, long.MaxValue, () => _now));

    private static RoomBroadcast Broadcast(int n, RoomPosition? position = null, string? except = null, string? channel = null)
        => new("r", new Message("t", JsonDocument.Parse($"{{\"n\":{n}}}").RootElement), except, "node", channel) { Position = position };

    private sealed class TestJoin : HistoryJoin
    {
        /// <summary>What the backplane's log holds after the offered position, or <see langword="null"/> when it holds nothing.</summary>
        public IReadOnlyList<RoomBroadcast>? Log { get; init; }

        public override ValueTask<IReadOnlyList<RoomBroadcast>?> FetchAsync(RoomPosition after) => ValueTask.FromResult(Log);

        /// <summary>What the <c>welcome</c> granted its token.</summary>
        public ResumeGrant? Grant { get; private set; }

        public override OutboundFrame Welcome(RoomPosition? position, bool? recovered, ResumeGrant? grant)
        {
            Grant = grant;
            return new(Encoding.UTF8.GetBytes($"welcome {position} {recovered}"), IsBinary: false);
        }
    }

    private sealed class Member(string roomId, RecoveryState? recovery) : IRoomMember
    {
        public string RoomId { get; } = roomId;

        public RealtimeProtocol Protocol => V1;

        public int RoomSlot { get; set; } = -1;

        public RecoveryState? Recovery { get; } = recovery;

        public int Room { get; init; } = int.MaxValue;

        public List<string> Frames { get; } = [];

        public void Enqueue(OutboundFrame frame) => Frames.Add(Encoding.UTF8.GetString(frame.Bytes.Span));

        public bool HasRoomFor(int frames, long bytes) => Frames.Count + frames <= Room;
    }
}
