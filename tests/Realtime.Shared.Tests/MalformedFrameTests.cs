using System.Text;
using Realtime.Protocol;

namespace Realtime.Shared.Tests;

public class MalformedFrameTests
{
    public static TheoryData<string, byte[]> InvalidText => new()
    {
        { "not UTF-8", [(byte)'{', 0xC3, 0x28, (byte)'}'] },
        { "not JSON", "{\"t\":\"msg\""u8.ToArray() },
        { "not JSON at all", "hello"u8.ToArray() },
        { "empty", [] },
        { "an array", "[{\"t\":\"msg\"}]"u8.ToArray() },
        { "a string", "\"msg\""u8.ToArray() },
        { "t missing", "{\"type\":\"x\"}"u8.ToArray() },
        { "t a number", "{\"t\":1}"u8.ToArray() },
        { "t null", "{\"t\":null}"u8.ToArray() },
        { "t an object", "{\"t\":{\"k\":\"msg\"}}"u8.ToArray() },
        { "type a number", "{\"t\":\"msg\",\"type\":5}"u8.ToArray() },
        { "type an array", "{\"t\":\"msg\",\"type\":[\"a\"]}"u8.ToArray() },
        { "type over 255 bytes", Encoding.UTF8.GetBytes("{\"t\":\"msg\",\"type\":\"" + new string('a', 256) + "\"}") },
        { "error message a number", "{\"t\":\"error\",\"message\":1}"u8.ToArray() },
        { "welcome without id", "{\"t\":\"welcome\",\"roomId\":\"r\",\"pingInterval\":1,\"pingTimeout\":1,\"maxMessageSize\":1}"u8.ToArray() },
        { "welcome with a negative interval", "{\"t\":\"welcome\",\"id\":\"i\",\"roomId\":\"r\",\"pingInterval\":-1,\"pingTimeout\":1,\"maxMessageSize\":1}"u8.ToArray() },
        { "trailing content", "{\"t\":\"pong\"}x"u8.ToArray() },
        { "two objects", "{\"t\":\"pong\"}{\"t\":\"pong\"}"u8.ToArray() },
        { "a field name with an escaped lone surrogate (found by the property tests)", "{\"\\ud800\":1,\"t\":\"msg\"}"u8.ToArray() },
        { "type with an escaped lone surrogate", "{\"t\":\"msg\",\"type\":\"\\udc00x\"}"u8.ToArray() },
        { "too deep", Encoding.UTF8.GetBytes("{\"t\":\"msg\",\"data\":" + new string('[', 100) + new string(']', 100) + "}") },
    };

    public static TheoryData<string, byte[], int> InvalidBinary => new()
    {
        { "empty", [], CloseCodes.ProtocolError },
        { "bad first byte", [0x02, 0x00, 1], CloseCodes.ProtocolError },
        { "no type length", [0x01], CloseCodes.ProtocolError },
        { "truncated type", [0x01, 5, (byte)'a'], CloseCodes.ProtocolError },
        { "type not UTF-8", [0x01, 2, 0xC3, 0x28, 9], CloseCodes.InvalidPayload },
    };

    [Theory]
    [MemberData(nameof(InvalidText))]
    public void Undecodable_text_throws_ProtocolException_1007(string why, byte[] bytes)
    {
        ProtocolException ex = Assert.Throws<ProtocolException>(() => FrameReader.ReadText(bytes));
        Assert.True(ex.CloseCode == CloseCodes.InvalidPayload, $"{why}: close code {ex.CloseCode}");
    }

    [Theory]
    [MemberData(nameof(InvalidBinary))]
    public void Bad_binary_throws_ProtocolException_with_its_code(string why, byte[] bytes, int code)
    {
        ProtocolException ex = Assert.Throws<ProtocolException>(() => FrameReader.ReadBinary(bytes));
        Assert.True(ex.CloseCode == code, $"{why}: close code {ex.CloseCode}");
    }

    [Fact]
    public void Unknown_fields_of_any_shape_are_ignored()
    {
        Frame frame = FrameReader.ReadText("{\"x\":[1,{\"y\":null}],\"t\":\"msg\",\"z\":{\"t\":\"ping\"},\"type\":\"a\",\"message\":5}"u8);
        Assert.Equal(FrameKind.Message, frame.Kind);
        Assert.Equal("a", frame.Message.Type);
    }

    [Fact]
    public void A_decoded_frame_does_not_depend_on_the_input_buffer()
    {
        byte[] text = "{\"t\":\"msg\",\"type\":\"k\",\"data\":{\"v\":\"keep\"}}"u8.ToArray();
        Message fromText = FrameReader.ReadText(text).Message;
        byte[] binary = [1, 1, (byte)'k', 42];
        Message fromBinary = FrameReader.ReadBinary(binary).Message;
        Array.Clear(text);
        Array.Clear(binary);
        Assert.Equal("keep", fromText.Data.GetProperty("v").GetString());
        Assert.Equal(42, fromBinary.Bytes.Span[0]);
    }
}
