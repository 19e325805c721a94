using Realtime.Protocol;

namespace Realtime.Shared.Tests;

/// <summary>FrameReader.ReadClientText: how a server reads what a client sent.</summary>
public class ClientFrameTests
{
    [Theory]
    [InlineData("{\"t\":\"welcome\"}", FrameKind.Welcome)]
    [InlineData("{\"t\":\"welcome\",\"id\":5,\"pingInterval\":-1}", FrameKind.Welcome)]
    [InlineData("{\"t\":\"reject\",\"message\":1}", FrameKind.Reject)]
    [InlineData("{\"t\":\"error\",\"message\":[]}", FrameKind.Error)]
    [InlineData("{\"t\":\"ping\",\"x\":1}", FrameKind.Ping)]
    public void A_server_only_kind_decodes_as_its_kind_whatever_its_fields(string json, FrameKind kind)
    {
        byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(json);
        Assert.Equal(kind, FrameReader.ReadClientText(utf8).Kind);
        if (kind != FrameKind.Ping)
        {
            // A client reading the same bytes checks the fields: from a server they are malformed.
            Assert.Equal(CloseCodes.InvalidPayload, Assert.Throws<ProtocolException>(() => FrameReader.ReadText(utf8)).CloseCode);
        }
    }

    [Theory]
    [InlineData("{\"t\":\"msg\",\"type\":5}")]
    [InlineData("{\"type\":\"x\"}")]
    [InlineData("[1]")]
    public void What_a_client_may_send_is_checked_as_strictly_as_ever(string json)
        => Assert.Equal(CloseCodes.InvalidPayload, Assert.Throws<ProtocolException>(() => FrameReader.ReadClientText(System.Text.Encoding.UTF8.GetBytes(json))).CloseCode);

    [Fact]
    public void Client_kinds_decode_the_same_either_way()
    {
        byte[] msg = "{\"t\":\"msg\",\"type\":\"cursor\",\"data\":{\"x\":1}}"u8.ToArray();
        Frame a = FrameReader.ReadText(msg), b = FrameReader.ReadClientText(msg);
        Assert.Equal((FrameKind.Message, "cursor", "{\"x\":1}"), (b.Kind, b.Message.Type, b.Message.Data.GetRawText()));
        Assert.Equal((a.Kind, a.Message.Type, a.Message.Data.GetRawText()), (b.Kind, b.Message.Type, b.Message.Data.GetRawText()));
        Assert.Equal("{\"k\":1}", FrameReader.ReadClientText("{\"t\":\"hello\",\"auth\":{\"k\":1}}"u8).Auth.GetRawText());
        Assert.Equal(FrameKind.Pong, FrameReader.ReadClientText("{\"t\":\"pong\"}"u8).Kind);
    }
}
