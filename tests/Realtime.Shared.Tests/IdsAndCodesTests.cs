using Realtime.Protocol;

namespace Realtime.Shared.Tests;

public class IdsAndCodesTests
{
    [Fact]
    public void Connection_ids_are_20_url_safe_characters_and_unique()
    {
        var ids = new HashSet<string>();
        for (int i = 0; i < 10_000; i++)
        {
            string id = ConnectionId.New();
            Assert.Equal(ConnectionId.Length, id.Length);
            Assert.True(ConnectionId.IsValid(id), id);
            Assert.True(ids.Add(id), "duplicate id " + id);
        }

        // 10 000 ids of 120 random bits use every character of the alphabet.
        Assert.Equal(64, ids.SelectMany(id => id).Distinct().Count());
    }

    [Theory]
    [InlineData("XBtqzsRMPh7MaVvaAAAB", true)]
    [InlineData("aaaaaaaaaa-_________", true)]
    [InlineData("XBtqzsRMPh7MaVvaAAA", false)]
    [InlineData("XBtqzsRMPh7MaVvaAAABC", false)]
    [InlineData("XBtqzsRMPh7MaVvaAA+B", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void ConnectionId_IsValid(string? id, bool valid) => Assert.Equal(valid, ConnectionId.IsValid(id));

    [Theory]
    [InlineData("room1", true)]
    [InlineData("a", true)]
    [InlineData("salle de réunion 😀", true)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("tab\there", false)]
    [InlineData("nul\0", false)]
    public void RoomId_IsValid(string? roomId, bool valid) => Assert.Equal(valid, RoomId.IsValid(roomId));

    [Fact]
    public void RoomId_refuses_lone_surrogates()
    {
        // Built here: xunit would replace lone surrogates in [InlineData] strings when it serializes them.
        Assert.False(RoomId.IsValid("lone " + (char)0xD800 + " high"));
        Assert.False(RoomId.IsValid("lone " + (char)0xDC00 + " low"));
        Assert.False(RoomId.IsValid("ends high " + (char)0xD83D));
        Assert.True(RoomId.IsValid("pair " + (char)0xD83D + (char)0xDE00));
    }

    [Fact]
    public void RoomId_length_limit_is_128_code_units()
    {
        Assert.True(RoomId.IsValid(new string('r', 128)));
        Assert.False(RoomId.IsValid(new string('r', 129)));
    }

    [Theory]
    [InlineData(CloseCodes.ServerDisconnect, DisconnectReason.ServerDisconnect, false)]
    [InlineData(CloseCodes.HandshakeRejected, DisconnectReason.ServerDisconnect, false)]
    [InlineData(CloseCodes.PingTimeout, DisconnectReason.PingTimeout, true)]
    [InlineData(CloseCodes.GoingAway, DisconnectReason.TransportClose, true)]
    [InlineData(CloseCodes.NormalClosure, DisconnectReason.TransportClose, true)]
    [InlineData(CloseCodes.ProtocolError, DisconnectReason.TransportError, true)]
    [InlineData(CloseCodes.InvalidPayload, DisconnectReason.TransportError, true)]
    [InlineData(CloseCodes.MessageTooBig, DisconnectReason.TransportError, true)]
    [InlineData(CloseCodes.InternalError, DisconnectReason.TransportError, true)]
    [InlineData(CloseCodes.SlowConsumer, DisconnectReason.TransportError, true)]
    [InlineData(CloseCodes.HandshakeTimeout, DisconnectReason.TransportError, true)]
    [InlineData(4999, DisconnectReason.TransportError, true)]
    public void Server_close_codes_map_to_a_reason_and_a_reconnect_decision(int code, DisconnectReason reason, bool reconnect)
    {
        Assert.Equal(reason, CloseCodes.ReasonForServerClose(code));
        Assert.Equal(reconnect, CloseCodes.AllowsReconnect(code));
    }

    [Theory]
    [InlineData(null, DisconnectReason.ClientDisconnect)]
    [InlineData(CloseCodes.NormalClosure, DisconnectReason.ClientDisconnect)]
    [InlineData(CloseCodes.GoingAway, DisconnectReason.ClientDisconnect)]
    [InlineData(CloseCodes.NoStatus, DisconnectReason.ClientDisconnect)]
    [InlineData(CloseCodes.ProtocolError, DisconnectReason.TransportError)]
    public void Client_close_codes_map_to_a_reason(int? code, DisconnectReason reason)
        => Assert.Equal(reason, CloseCodes.ReasonForClientClose(code));

    [Fact]
    public void Disconnect_reasons_have_the_numbers_of_the_original_framework()
    {
        Assert.Equal(0, (int)DisconnectReason.ClientDisconnect);
        Assert.Equal(1, (int)DisconnectReason.ServerDisconnect);
        Assert.Equal(2, (int)DisconnectReason.PingTimeout);
        Assert.Equal(3, (int)DisconnectReason.TransportClose);
        Assert.Equal(4, (int)DisconnectReason.TransportError);
    }
}
