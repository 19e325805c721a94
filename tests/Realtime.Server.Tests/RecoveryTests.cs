using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Realtime.Protocol;
using Realtime.Server;

namespace Realtime.Server.Tests;

/// <summary>
/// Recovery after a brief drop (docs/protocol.md §3.1) on real Kestrel, with clients that speak the wire by hand through the fault
/// proxy: a member cut off for a moment gets what its room broadcast meanwhile, in order and once, or is told it did not.
/// </summary>
public sealed class RecoveryTests
{
    /// <summary>How long the link stays cut: a brief drop, as when a phone changes networks.</summary>
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(1.5);

    [Theory]
    [InlineData(HostMode.Endpoint)]
    [InlineData(HostMode.Dense)]
    public async Task A_member_reset_for_a_moment_while_200_messages_are_broadcast_receives_all_200_in_order_once_and_is_told_it_recovered(HostMode mode)
    {
        await using KestrelRealtimeHost host = await StartAsync(mode);
        await using FaultProxy proxy = await FaultProxy.StartAsync(new Uri(host.Url));
        await using Peer bystander = await Peer.ConnectAsync(host.Url, "roomId=room1", recover: false);
        await using Peer victim = await Peer.ConnectAsync(Via(proxy), "roomId=room1", recover: true);
        Assert.NotNull(victim.Token);
        Assert.Null(victim.Welcome.Recovered); // a first connection offered no token
        Assert.Matches("^[A-Za-z0-9_-]{8}:0$", victim.Welcome.Position);
        for (int i = 0; i < 10; i++)
        {
            host.Server.Broadcast("room1", new { n = i }, "before");
        }

        Assert.Equal(Enumerable.Range(0, 10), (await victim.ReceiveAsync(10)).Select(m => m.N));
        string formerId = victim.Id;

        long cut = Stopwatch.GetTimestamp();
        proxy.ResetConnections();
        Assert.Equal(DisconnectReason.TransportClose, await host.Connections.WaitForDisconnectAsync(formerId));
        for (int i = 0; i < 200; i++)
        {
            host.Server.Broadcast("room1", new { n = i }, "missed");
        }

        await Task.Delay(Remaining(cut)); // sleep-ok: the link stays down for the outage, nothing is awaited here

        await using Peer back = await Peer.ConnectAsync(Via(proxy), "roomId=room1", recover: true, victim.Token, victim.LastPos);
        Assert.True(back.Welcome.Recovered);
        Assert.Equal(victim.LastPos, back.Welcome.Position);
        Assert.NotEqual(formerId, back.Id);
        Assert.NotEqual(victim.Token, back.Token);
        host.Server.Broadcast("room1", new { n = -1 }, "end");
        IReadOnlyList<Received> received = await back.ReceiveUntilAsync("end");
        Assert.Equal(Enumerable.Range(0, 200), received.Select(m => m.N));
        Assert.All(received, m => Assert.Equal("missed", m.Type));
        AssertConsecutive(victim.LastPos!, received);
        Assert.Equal(210, await bystander.CountUntilAsync("end")); // the room went on as usual
    }

    [Fact]
    public async Task A_member_whose_link_went_silent_resumes_before_the_server_noticed_its_former_connection_is_closed_and_it_recovers()
    {
        await using KestrelRealtimeHost host = await StartAsync();
        await using FaultProxy proxy = await FaultProxy.StartAsync(new Uri(host.Url));
        await using Peer victim = await Peer.ConnectAsync(Via(proxy), "roomId=room1", recover: true);
        host.Server.Broadcast("room1", new { n = 0 }, "before");
        await victim.ReceiveAsync(1);
        string formerId = victim.Id;

        long cut = Stopwatch.GetTimestamp();
        proxy.Blackhole(FaultDirection.Both);
        for (int i = 0; i < 200; i++)
        {
            host.Server.Broadcast("room1", new { n = i }, "missed");
        }

        await Task.Delay(Remaining(cut)); // sleep-ok: the link stays down for the outage, nothing is awaited here
        proxy.Heal();
        await using Peer back = await Peer.ConnectAsync(Via(proxy), "roomId=room1", recover: true, victim.Token, victim.LastPos);
        Assert.True(back.Welcome.Recovered);
        Assert.Equal(DisconnectReason.ServerDisconnect, await host.Connections.WaitForDisconnectAsync(formerId)); // closed by the resume
        host.Server.Broadcast("room1", new { n = -1 }, "end");
        IReadOnlyList<Received> received = await back.ReceiveUntilAsync("end");
        Assert.Equal(Enumerable.Range(0, 200), received.Select(m => m.N));
        AssertConsecutive(victim.LastPos!, received);
    }

    [Fact]
    public async Task Past_the_window_the_member_is_told_it_did_not_recover_and_receives_only_new_messages()
    {
        await using KestrelRealtimeHost host = await StartAsync(maxAge: TimeSpan.FromSeconds(1));
        await using FaultProxy proxy = await FaultProxy.StartAsync(new Uri(host.Url));
        await using Peer bystander = await Peer.ConnectAsync(host.Url, "roomId=room1", recover: false);
        await using Peer victim = await Peer.ConnectAsync(Via(proxy), "roomId=room1", recover: true);
        string epoch = victim.Welcome.Position!.Split(':')[0];
        for (int i = 0; i < 3; i++)
        {
            host.Server.Broadcast("room1", new { n = i }, "before");
        }

        await victim.ReceiveAsync(3);
        proxy.ResetConnections();
        await host.Connections.WaitForDisconnectAsync(victim.Id);
        for (int i = 0; i < 5; i++)
        {
            host.Server.Broadcast("room1", new { n = i }, "missed");
        }

        await Task.Delay(TimeSpan.FromSeconds(1.3)); // sleep-ok: the 1 s window passes, nothing is awaited here

        await using Peer back = await Peer.ConnectAsync(Via(proxy), "roomId=room1", recover: true, victim.Token, victim.LastPos);
        Assert.False(back.Welcome.Recovered);
        Assert.Equal($"{epoch}:8", back.Welcome.Position); // where the room stands: it receives from there
        Assert.NotNull(back.Token);
        host.Server.Broadcast("room1", new { n = 100 }, "new");
        Received next = (await back.ReceiveAsync(1))[0];
        Assert.Equal(("new", 100, $"{epoch}:9"), (next.Type, next.N, next.Position));
    }

    [Fact]
    public async Task Forged_reused_other_room_and_other_identity_tokens_are_refused_recovery_and_the_connection_works_as_a_new_one()
    {
        await using KestrelRealtimeHost host = await StartAsync();
        await using Peer ann = await Peer.ConnectAsync(host.Url, "roomId=room1&user=ann", recover: true);
        host.Server.Broadcast("room1", new { n = 0 }, "before");
        await ann.ReceiveAsync(1);
        string token = ann.Token!;
        string pos = ann.LastPos!;
        await ann.DisposeAsync();
        await host.Connections.WaitForDisconnectAsync(ann.Id);
        host.Server.Broadcast("room1", new { n = 1 }, "missed");

        char[] forged = token.ToCharArray();
        forged[30] = forged[30] == 'A' ? 'B' : 'A';
        await AssertRefusedAsync(host, new string(forged), pos, "roomId=room1&user=ann");
        await AssertRefusedAsync(host, token, pos, "roomId=room2&user=ann"); // another room's token
        await AssertRefusedAsync(host, token, pos, "roomId=room1&user=bob"); // another identity's token
        await AssertRefusedAsync(host, "not a token", pos, "roomId=room1&user=ann");

        // None of those spent it: ann herself resumes with it once, and only once.
        await using (Peer back = await Peer.ConnectAsync(host.Url, "roomId=room1&user=ann", recover: true, token, pos))
        {
            Assert.True(back.Welcome.Recovered);
            Assert.Equal(1, (await back.ReceiveAsync(1))[0].N);
        }

        await AssertRefusedAsync(host, token, pos, "roomId=room1&user=ann"); // reused
    }

    [Fact]
    public async Task A_client_that_does_not_ask_sees_no_new_field_in_a_room_that_keeps_a_history()
    {
        await using KestrelRealtimeHost host = await StartAsync();
        await using RawProtocolClient plain = await RawProtocolClient.ConnectAsync(host.Url);
        await plain.HelloAsync();
        string welcome = await plain.ReceiveStartingWithAsync("{\"t\":\"welcome\"");
        Assert.Equal(["t", "id", "roomId", "pingInterval", "pingTimeout", "maxMessageSize"], JsonDocument.Parse(welcome).RootElement.EnumerateObject().Select(p => p.Name));

        host.Server.Broadcast("room1", new { n = 1 }, "text");
        host.Server.Broadcast("room1", new byte[] { 7, 8 }, "bin");
        Assert.Equal("{\"t\":\"msg\",\"type\":\"text\",\"data\":{\"n\":1}}", await plain.ReceiveAsync());
        Assert.Equal(Convert.ToBase64String([0x01, 3, (byte)'b', (byte)'i', (byte)'n', 7, 8]), await plain.ReceiveAsync());
    }

    [Fact]
    public async Task Binary_broadcasts_carry_their_position_to_members_that_ask_and_are_replayed_with_it()
    {
        await using KestrelRealtimeHost host = await StartAsync();
        await using FaultProxy proxy = await FaultProxy.StartAsync(new Uri(host.Url));
        await using Peer victim = await Peer.ConnectAsync(Via(proxy), "roomId=room1", recover: true);
        string epoch = victim.Welcome.Position!.Split(':')[0];
        host.Server.Broadcast("room1", new byte[] { 1, 2, 3 }, "bin");
        Received live = (await victim.ReceiveAsync(1))[0];
        Assert.True(live.Binary);
        Assert.Equal($"{epoch}:1", live.Position);
        Assert.Equal("010203", live.Data);
        byte[] raw = Convert.FromBase64String(live.Raw);
        Assert.Equal(ProtocolLimits.PositionedBinaryMarker, raw[0]);
        Assert.Equal(Encoding.UTF8.GetBytes($"{epoch}:1"), raw.AsSpan(2, raw[1]).ToArray());

        proxy.ResetConnections();
        await host.Connections.WaitForDisconnectAsync(victim.Id);
        host.Server.Broadcast("room1", new byte[] { 4 }, "bin");
        host.Server.Broadcast("room1", new { n = 5 }, "text");
        await using Peer back = await Peer.ConnectAsync(Via(proxy), "roomId=room1", recover: true, victim.Token, victim.LastPos);
        Assert.True(back.Welcome.Recovered);
        IReadOnlyList<Received> replayed = await back.ReceiveAsync(2);
        Assert.Equal([(true, "04", $"{epoch}:2"), (false, "{\"n\":5}", $"{epoch}:3")], replayed.Select(m => (m.Binary, m.Data, m.Position)));
    }

    [Fact]
    public async Task Presence_broadcasts_reach_members_with_positions_but_are_never_replayed()
    {
        await using KestrelRealtimeHost host = await StartAsync(presence: true);
        await using FaultProxy proxy = await FaultProxy.StartAsync(new Uri(host.Url));
        await using Peer victim = await Peer.ConnectAsync(Via(proxy), "roomId=room1", recover: true);
        await using Peer other = await Peer.ConnectAsync(host.Url, "roomId=room1", recover: true);
        await victim.SendAsync("presence", JsonSerializer.Serialize("""{"a":"s"}"""));
        Assert.Null((await victim.ReceiveAsync(1))[0].Position); // the snapshot is an answer to it alone
        await other.SendAsync("presence", JsonSerializer.Serialize("""{"a":"d","presence":{"user":"b"}}"""));
        Received change = (await victim.ReceiveAsync(1))[0];
        Assert.Equal("presence", change.Type);
        Assert.NotNull(change.Position); // a channel broadcast is in the room's order

        proxy.ResetConnections();
        await host.Connections.WaitForDisconnectAsync(victim.Id);
        await other.SendAsync("presence", JsonSerializer.Serialize("""{"a":"d","presence":{"user":"b","sel":[1,1]}}"""));
        host.Server.Broadcast("room1", new { n = 1 }, "after");
        await using Peer back = await Peer.ConnectAsync(Via(proxy), "roomId=room1", recover: true, victim.Token, victim.LastPos);
        Assert.True(back.Welcome.Recovered);
        host.Server.Broadcast("room1", new { n = 2 }, "end");
        Assert.Equal(["after"], (await back.ReceiveUntilAsync("end")).Select(m => m.Type));
    }

    [Fact]
    public async Task A_member_s_own_broadcasts_are_not_replayed_to_it()
    {
        await using KestrelRealtimeHost host = await StartAsync();
        await using FaultProxy proxy = await FaultProxy.StartAsync(new Uri(host.Url));
        await using Peer victim = await Peer.ConnectAsync(Via(proxy), "roomId=room1", recover: true);
        await using Peer other = await Peer.ConnectAsync(host.Url, "roomId=room1", recover: true);
        await victim.SendAsync("mine", "{\"n\":1}"); // relayed to the others only
        Assert.Equal("mine", (await other.ReceiveAsync(1))[0].Type);

        proxy.ResetConnections();
        await host.Connections.WaitForDisconnectAsync(victim.Id);
        await other.SendAsync("theirs", "{\"n\":2}");
        await using Peer back = await Peer.ConnectAsync(Via(proxy), "roomId=room1", recover: true, victim.Token, victim.LastPos);
        Assert.True(back.Welcome.Recovered);
        host.Server.Broadcast("room1", new { n = 3 }, "end");
        Assert.Equal(["theirs"], (await back.ReceiveUntilAsync("end")).Select(m => m.Type));
    }

    [Fact]
    public async Task A_replay_larger_than_the_outbound_queue_holds_is_refused_up_front_and_the_connection_stays_open()
    {
        await using KestrelRealtimeHost host = await StartAsync(configure: o => o.MaxQueuedMessages = 20);
        await using FaultProxy proxy = await FaultProxy.StartAsync(new Uri(host.Url));
        await using Peer victim = await Peer.ConnectAsync(Via(proxy), "roomId=room1", recover: true);
        proxy.ResetConnections();
        await host.Connections.WaitForDisconnectAsync(victim.Id);
        for (int i = 0; i < 50; i++)
        {
            host.Server.Broadcast("room1", new { n = i }, "missed");
        }

        await using Peer back = await Peer.ConnectAsync(Via(proxy), "roomId=room1", recover: true, victim.Token, victim.LastPos);
        Assert.False(back.Welcome.Recovered); // not a close with 4003 halfway through the replay
        Assert.EndsWith(":50", back.Welcome.Position, StringComparison.Ordinal);
        host.Server.Broadcast("room1", new { n = 50 }, "new");
        Assert.Equal(("new", 50), (await back.ReceiveAsync(1)).Select(m => (m.Type, m.N)).Single());
    }

    [Fact]
    public async Task A_room_that_keeps_no_history_gives_no_token_and_a_resume_there_is_told_it_did_not_recover()
    {
        await using KestrelRealtimeHost host = await StartAsync(rooms: ["doc-*"]);
        await using Peer chat = await Peer.ConnectAsync(host.Url, "roomId=chat", recover: true);
        Assert.Null(chat.Token);
        Assert.Null(chat.Welcome.Position);
        host.Server.Broadcast("chat", new { n = 1 }, "text");
        Assert.Null((await chat.ReceiveAsync(1))[0].Position);

        await using Peer doc = await Peer.ConnectAsync(host.Url, "roomId=doc-1", recover: true);
        Assert.NotNull(doc.Token);
        await using Peer resumed = await Peer.ConnectAsync(host.Url, "roomId=chat", recover: true, doc.Token, doc.Welcome.Position);
        Assert.False(resumed.Welcome.Recovered);
        Assert.Null(resumed.Token);
    }

    private static async Task AssertRefusedAsync(KestrelRealtimeHost host, string token, string pos, string query)
    {
        await using Peer peer = await Peer.ConnectAsync(host.Url, query, recover: true, token, pos);
        Assert.False(peer.Welcome.Recovered);
        Assert.NotNull(peer.Token); // it proceeds as a fresh connection: resumable in turn

        // It works: it receives the room's broadcasts (nothing older), and what it sends is relayed.
        string room = query.Split('&')[0]["roomId=".Length..];
        host.Server.Broadcast(room, new { n = 42 }, "fresh");
        Received next = (await peer.ReceiveAsync(1))[0];
        Assert.Equal(("fresh", 42), (next.Type, next.N));
        await host.Connections.WaitAsync(peer.Id);
        Assert.True(host.Server.GetConnection(peer.Id)!.Connected);
    }

    private static void AssertConsecutive(string after, IReadOnlyList<Received> received)
    {
        Assert.True(RoomPosition.TryParse(after, out RoomPosition position));
        foreach (Received message in received)
        {
            position = position.Next;
            Assert.Equal(position.ToString(), message.Position);
        }
    }

    private static TimeSpan Remaining(long since)
    {
        TimeSpan left = Outage - Stopwatch.GetElapsedTime(since);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private static string Via(FaultProxy proxy) => proxy.Url.ToString();

    private static Task<KestrelRealtimeHost> StartAsync(HostMode mode = HostMode.Endpoint, TimeSpan? maxAge = null, bool presence = false, string[]? rooms = null,
                                                        Action<RealtimeOptions>? configure = null)
        => KestrelRealtimeHost.StartAsync(mode, o =>
        {
            configure?.Invoke(o);
            o.Recovery.Enabled = true;
            o.Recovery.MaxAge = maxAge ?? TimeSpan.FromMinutes(2);
            o.Recovery.Identity = c => c.Query.GetValueOrDefault("user");
            foreach (string pattern in rooms ?? [])
            {
                o.Recovery.Rooms.Add(pattern);
            }
        }, server =>
        {
            if (presence)
            {
                server.UsePresence();
            }

            server.On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message));
        });

    /// <summary>A message a <see cref="Peer"/> received.</summary>
    private sealed record Received(string? Type, string Data, string? Position, bool Binary, string Raw)
    {
        public int N => JsonDocument.Parse(Data).RootElement.GetProperty("n").GetInt32();
    }

    /// <summary>A client that speaks protocol v1 with its recovery fields by hand, and keeps its last position as a client must.</summary>
    private sealed class Peer : IAsyncDisposable
    {
        private readonly RawProtocolClient _raw;

        private Peer(RawProtocolClient raw, Frame welcome)
        {
            _raw = raw;
            Welcome = welcome;
            LastPos = welcome.Position;
        }

        public Frame Welcome { get; }

        public string Id => Welcome.ConnectionId!;

        public string? Token => Welcome.ResumeToken;

        /// <summary>The welcome's position, then that of each message received with one.</summary>
        public string? LastPos { get; private set; }

        public static async Task<Peer> ConnectAsync(string url, string query, bool recover, string? token = null, string? pos = null)
        {
            RawProtocolClient raw = await RawProtocolClient.ConnectAsync(url, query);
            var hello = new StringBuilder("{\"t\":\"hello\"");
            if (recover)
            {
                hello.Append(",\"recover\":true");
            }

            if (token is not null)
            {
                hello.Append(",\"resume\":").Append(JsonSerializer.Serialize(token)).Append(",\"pos\":").Append(JsonSerializer.Serialize(pos));
            }

            await raw.SendTextAsync(hello.Append('}').ToString());
            string welcome = await raw.ReceiveStartingWithAsync("{\"t\":\"welcome\"");
            return new Peer(raw, FrameReader.ReadText(Encoding.UTF8.GetBytes(welcome)));
        }

        public Task SendAsync(string type, string dataJson) => _raw.SendTextAsync($"{{\"t\":\"msg\",\"type\":{JsonSerializer.Serialize(type)},\"data\":{dataJson}}}");

        /// <summary>The next <paramref name="count"/> messages (pings are answered; an error frame or a close fails the test).</summary>
        public async Task<IReadOnlyList<Received>> ReceiveAsync(int count)
        {
            var received = new List<Received>();
            while (received.Count < count)
            {
                received.Add(await ReceiveOneAsync());
            }

            return received;
        }

        /// <summary>The messages before the first of type <paramref name="type"/>.</summary>
        public async Task<IReadOnlyList<Received>> ReceiveUntilAsync(string type)
        {
            var received = new List<Received>();
            for (Received next = await ReceiveOneAsync(); next.Type != type; next = await ReceiveOneAsync())
            {
                received.Add(next);
            }

            return received;
        }

        public async Task<int> CountUntilAsync(string type) => (await ReceiveUntilAsync(type)).Count;

        public ValueTask DisposeAsync() => _raw.DisposeAsync();

        private async Task<Received> ReceiveOneAsync()
        {
            while (true)
            {
                string text = await _raw.ReceiveAsync() ?? throw new InvalidOperationException($"The server closed the connection ({_raw.CloseStatus}).");
                if (text == "{\"t\":\"ping\"}")
                {
                    await _raw.SendTextAsync("{\"t\":\"pong\"}");
                    continue;
                }

                Frame frame = text.StartsWith('{') ? FrameReader.ReadText(Encoding.UTF8.GetBytes(text)) : FrameReader.ReadBinary(Convert.FromBase64String(text));
                Assert.Equal(FrameKind.Message, frame.Kind); // never an error frame
                if (frame.Position is { } position)
                {
                    LastPos = position;
                }

                Message message = frame.Message;
                return new Received(message.Type, message.IsBinary ? Convert.ToHexString(message.Bytes.Span) : message.Data.GetRawText(), frame.Position, message.IsBinary, text);
            }
        }
    }
}
