using Realtime.Protocol;

namespace Realtime.Server.Tests;

/// <summary>
/// The size of a broadcast is checked at the call, whatever the room holds and whatever the backplane; what one wire protocol cannot
/// carry does not keep a room's members of the other protocol from receiving it.
/// </summary>
public sealed class BroadcastSizeTests : IAsyncLifetime
{
    private const int MaxMessageSize = 4096;
    private KestrelRealtimeHost _host = null!;

    public async Task InitializeAsync() => _host = await KestrelRealtimeHost.StartAsync(o => o.MaxMessageSize = MaxMessageSize);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task An_oversized_broadcast_to_a_room_without_members_here_is_refused_at_the_call()
    {
        string tooBig = new('x', MaxMessageSize + ProtocolLimits.EnvelopeAllowance);
        ArgumentException sync = Assert.Throws<ArgumentException>(() => _host.Server.Broadcast("nobody-here", tooBig, "big"));
        Assert.Contains("Realtime:MaxMessageSize", sync.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => _host.Server.BroadcastAsync("nobody-here", tooBig, "big"));
    }

    [Fact]
    public async Task A_broadcast_at_the_limit_reaches_every_member_of_both_protocols_whatever_their_order()
    {
        // Join order is the room's member order: the compatibility member comes first.
        await using SocketIoTestClient compat = await SocketIoTestClient.ConnectAcceptedAsync(_host.CollaborationUrl, SocketIoTestClient.NewId());
        await using RawProtocolClient first = await RawProtocolClient.ConnectWelcomedAsync(_host.Url);
        await using RawProtocolClient second = await RawProtocolClient.ConnectWelcomedAsync(_host.Url);

        // A v1 binary frame of exactly the limit ([0x01][1]["b"][payload]). The compatibility protocol's event header makes its frame
        // larger than that, which its clients read (they read what the original server sends, base64 of gzip included).
        byte[] payload = new byte[MaxMessageSize + ProtocolLimits.EnvelopeAllowance - 3];
        payload.AsSpan().Fill(7);
        _host.Server.Broadcast("room1", payload, "b");

        Assert.Equal("451-[\"m\",[\"b\",{\"_placeholder\":true,\"num\":0},false]]", await compat.ReceiveStartingWithAsync("45"));
        Assert.Equal("binary:" + Convert.ToBase64String(payload), await compat.ReceiveAsync());
        foreach (RawProtocolClient member in new[] { first, second })
        {
            byte[] frame = Convert.FromBase64String(await member.ReceiveStartingWithAsync("AQ")); // a v1 binary frame: [0x01][1]["b"]
            Assert.Equal(MaxMessageSize + ProtocolLimits.EnvelopeAllowance, frame.Length);
            Assert.Equal((byte)'b', frame[2]);
        }

        Assert.DoesNotContain(_host.Logs.Entries, e => e.EventName == "BroadcastNotEncodable");
    }

    [Fact]
    public async Task A_type_protocol_v1_cannot_carry_reaches_the_compatibility_members_and_skips_the_v1_ones_between_them()
    {
        using var instruments = new ServerInstruments(_host.Services);
        await using SocketIoTestClient sender = await SocketIoTestClient.ConnectAcceptedAsync(_host.CollaborationUrl, SocketIoTestClient.NewId());
        await using SocketIoTestClient before = await SocketIoTestClient.ConnectAcceptedAsync(_host.CollaborationUrl, SocketIoTestClient.NewId());
        await using RawProtocolClient v1 = await RawProtocolClient.ConnectWelcomedAsync(_host.Url);
        await using SocketIoTestClient after = await SocketIoTestClient.ConnectAcceptedAsync(_host.CollaborationUrl, SocketIoTestClient.NewId());

        string longType = new('t', 300); // relayed as the original server does; protocol v1 carries at most 255 bytes
        await sender.SendMessageAsync(longType, "{\"n\":1}");
        Assert.Equal((longType, "{\"n\":1}", false), await before.ReceiveMessageAsync());
        Assert.Equal((longType, "{\"n\":1}", false), await after.ReceiveMessageAsync());
        await _host.Logs.WaitForAsync("BroadcastNotEncodable");

        // The v1 member missed only that one: the next message is the first it gets.
        await sender.SendMessageAsync("short", "2");
        Assert.Equal("{\"t\":\"msg\",\"type\":\"short\",\"data\":2}", await v1.ReceiveStartingWithAsync("{\"t\":\"msg\""));

        Assert.Equal(("short", "2", false), await after.ReceiveMessageAsync());

        // From the server's own API the same broadcast is not refused: a protocol carries it.
        _host.Server.Broadcast("room1", 3, longType);
        Assert.Equal((longType, "3", false), await after.ReceiveMessageAsync());

        // Each of the two long-type broadcasts skipped the one v1 member (realtime.server.broadcast.skipped), and was queued to the
        // compatibility members: two (the sender's own relay excepts it), then all three.
        await ServerInstruments.WaitForSumAsync(instruments.Skipped, 2);
        Assert.Equal([1L, 1L], instruments.Skipped.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.Equal([2L, 3L, 3L], instruments.Recipients.GetMeasurementSnapshot().Select(m => m.Value)); // "short" went to all three others
    }
}
