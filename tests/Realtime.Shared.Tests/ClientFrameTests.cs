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

/// <summary>ProtocolException's constructors: the close code is always the one named, 1002 when none is.</summary>
public class ProtocolExceptionTests
{
    [Fact]
    public void Only_the_close_code_passed_in_is_carried_and_an_inner_exception_does_not_change_it()
    {
        var inner = new InvalidOperationException("cause");
        Assert.Equal(CloseCodes.ProtocolError, new ProtocolException().CloseCode);
        Assert.Equal(CloseCodes.ProtocolError, new ProtocolException("m").CloseCode);
        Assert.Equal(CloseCodes.ProtocolError, new ProtocolException("m", inner).CloseCode);
        var named = new ProtocolException(CloseCodes.InvalidPayload, "m", inner);
        Assert.Equal((CloseCodes.InvalidPayload, "m", (Exception)inner), (named.CloseCode, named.Message, named.InnerException!));
        Assert.Equal(CloseCodes.MessageTooBig, new ProtocolException(CloseCodes.MessageTooBig, "m").CloseCode);
    }
}
