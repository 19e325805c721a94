using System.Buffers;
using System.Text;
using System.Text.Json;
using Realtime.Protocol;

namespace Realtime.Shared.Tests;

/// <summary>The recovery fields of <c>hello</c>, <c>welcome</c> and <c>msg</c>, and the positioned binary frame (docs/protocol.md §3.1).</summary>
public class RecoveryFrameTests
{
    private static readonly JsonElement Auth = JsonDocument.Parse("{\"token\":\"t\"}").RootElement;

    [Fact]
    public void A_first_hello_asks_for_recovery_and_a_reconnecting_one_offers_its_token_and_position()
    {
        string first = Write(w => FrameWriter.WriteHello(w, Auth, null, null, recover: true, resumeToken: null, position: null));
        Assert.Equal("{\"t\":\"hello\",\"auth\":{\"token\":\"t\"},\"recover\":true}", first);
        Frame read = FrameReader.ReadClientText(Encoding.UTF8.GetBytes(first));
        Assert.True(read.Recover);
        Assert.Null(read.ResumeToken);
        Assert.Null(read.Position);

        string again = Write(w => FrameWriter.WriteHello(w, Auth, null, null, recover: true, resumeToken: "tok", position: "ab:12"));
        Assert.Equal("{\"t\":\"hello\",\"auth\":{\"token\":\"t\"},\"recover\":true,\"resume\":\"tok\",\"pos\":\"ab:12\"}", again);
        read = FrameReader.ReadClientText(Encoding.UTF8.GetBytes(again));
        Assert.True(read.Recover);
        Assert.Equal("tok", read.ResumeToken);
        Assert.Equal("ab:12", read.Position);
    }

    [Fact]
    public void A_hello_without_the_fields_is_todays_hello()
    {
        string text = Write(w => FrameWriter.WriteHello(w, Auth));
        Assert.Equal("{\"t\":\"hello\",\"auth\":{\"token\":\"t\"}}", text);
        Frame read = FrameReader.ReadClientText(Encoding.UTF8.GetBytes(text));
        Assert.False(read.Recover);
        Assert.Null(read.ResumeToken);
        Assert.Null(read.Position);
        Assert.Null(read.Recovered);
    }

    [Theory]
    [InlineData("{\"t\":\"hello\",\"resume\":42,\"pos\":\"a:1\"}", "", "a:1")]
    [InlineData("{\"t\":\"hello\",\"resume\":\"tok\",\"pos\":{\"a\":1}}", "tok", "")]
    [InlineData("{\"t\":\"hello\",\"resume\":\"\\ud800\",\"pos\":null}", "", "")]
    public void An_unusable_token_or_position_reads_as_empty_never_as_a_protocol_error(string hello, string token, string position)
    {
        Frame read = FrameReader.ReadClientText(Encoding.UTF8.GetBytes(hello));
        Assert.Equal(FrameKind.Hello, read.Kind);
        Assert.True(read.Recover); // a resume field implies it
        Assert.Equal(token, read.ResumeToken);
        Assert.Equal(position, read.Position);
    }

    [Fact]
    public void A_token_longer_than_the_limit_reads_as_empty()
    {
        string hello = $"{{\"t\":\"hello\",\"resume\":\"{new string('a', ProtocolLimits.MaxResumeTokenLength + 1)}\"}}";
        Assert.Equal(string.Empty, FrameReader.ReadClientText(Encoding.UTF8.GetBytes(hello)).ResumeToken);
    }

    [Fact]
    public void A_welcome_carries_the_token_the_position_and_whether_the_session_was_recovered()
    {
        string text = Write(w => FrameWriter.WriteWelcome(w, "XBtqzsRMPh7MaVvaAAAB", "room1", 25000, 20000, 1048576, "tok", "ab:12", recovered: true));
        Assert.Equal("{\"t\":\"welcome\",\"id\":\"XBtqzsRMPh7MaVvaAAAB\",\"roomId\":\"room1\",\"pingInterval\":25000,\"pingTimeout\":20000," +
                     "\"maxMessageSize\":1048576,\"resume\":\"tok\",\"pos\":\"ab:12\",\"recovered\":true}", text);
        Frame read = FrameReader.ReadText(Encoding.UTF8.GetBytes(text));
        Assert.Equal("tok", read.ResumeToken);
        Assert.Equal("ab:12", read.Position);
        Assert.True(read.Recovered);

        string plain = Write(w => FrameWriter.WriteWelcome(w, "XBtqzsRMPh7MaVvaAAAB", "room1", 25000, 20000, 1048576, null, null, recovered: false));
        read = FrameReader.ReadText(Encoding.UTF8.GetBytes(plain));
        Assert.False(read.Recovered);
        Assert.Null(read.ResumeToken);
        Assert.Null(read.Position);
    }

    [Fact]
    public void A_positioned_text_broadcast_carries_pos_after_data_and_reads_back()
    {
        var message = new Message("doc", JsonDocument.Parse("{\"a\":\"\\u00e9\"}").RootElement);
        string text = Write(w => Assert.False(FrameWriter.WritePositionedMessage(w, message, "ab:7")));
        Assert.Equal("{\"t\":\"msg\",\"type\":\"doc\",\"data\":{\"a\":\"\\u00e9\"},\"pos\":\"ab:7\"}", text);
        Frame read = FrameReader.ReadText(Encoding.UTF8.GetBytes(text));
        Assert.Equal("ab:7", read.Position);
        Assert.Equal("doc", read.Message.Type);
    }

    [Fact]
    public void A_client_msg_with_pos_is_an_ordinary_message_without_a_position()
    {
        Frame read = FrameReader.ReadClientText("{\"t\":\"msg\",\"type\":\"doc\",\"data\":1,\"pos\":\"ab:7\"}"u8);
        Assert.Equal(FrameKind.Message, read.Kind);
        Assert.Null(read.Position);
    }

    [Fact]
    public void A_positioned_binary_broadcast_is_0x02_then_the_position_then_a_0x01_frame_body()
    {
        var message = new Message("crdt", new byte[] { 1, 2, 3 });
        var buffer = new ArrayBufferWriter<byte>();
        Assert.True(FrameWriter.WritePositionedMessage(buffer, message, "e:9"));
        Assert.Equal(new byte[] { 0x02, 3, (byte)'e', (byte)':', (byte)'9', 4, (byte)'c', (byte)'r', (byte)'d', (byte)'t', 1, 2, 3 }, buffer.WrittenSpan.ToArray());

        Frame read = FrameReader.ReadBinary(buffer.WrittenSpan);
        Assert.Equal("e:9", read.Position);
        Assert.Equal("crdt", read.Message.Type);
        Assert.Equal(new byte[] { 1, 2, 3 }, read.Message.Bytes.ToArray());
    }

    [Fact]
    public void A_positioned_binary_frame_without_type_or_payload_reads()
    {
        Frame read = FrameReader.ReadBinary(new byte[] { 0x02, 1, (byte)'x', 0 });
        Assert.Equal("x", read.Position);
        Assert.Null(read.Message.Type);
        Assert.Equal(0, read.Message.Bytes.Length);
    }

    [Theory]
    [InlineData(new byte[] { 0x02, 3, (byte)'e', (byte)':' })]
    [InlineData(new byte[] { 0x02, 1, (byte)'e' })]
    [InlineData(new byte[] { 0x02, 0, 5, (byte)'a' })]
    public void A_truncated_positioned_binary_frame_is_a_protocol_error(byte[] frame)
    {
        ProtocolException ex = Assert.Throws<ProtocolException>(() => FrameReader.ReadBinary(frame));
        Assert.Equal(CloseCodes.ProtocolError, ex.CloseCode);
    }

    [Fact]
    public void A_positioned_binary_frame_from_a_client_is_a_protocol_error()
    {
        ProtocolException ex = Assert.Throws<ProtocolException>(() => FrameReader.ReadClientBinary(new byte[] { 0x02, 1, (byte)'x', 0 }));
        Assert.Equal(CloseCodes.ProtocolError, ex.CloseCode);
    }

    [Fact]
    public void A_position_longer_than_255_bytes_is_refused_where_it_is_written()
    {
        var buffer = new ArrayBufferWriter<byte>();
        Assert.Throws<ArgumentException>(() => FrameWriter.WritePositionedMessage(buffer, new Message(null, new byte[] { 1 }), new string('é', 128)));
        Assert.Equal(0, buffer.WrittenCount);
    }

    private static string Write(Action<ArrayBufferWriter<byte>> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
