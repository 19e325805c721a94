using System.Buffers;
using System.Text;
using System.Text.Json;
using Realtime.Protocol;

namespace Realtime.Shared.Tests;

public class FrameRoundTripTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    [Fact]
    public void Hello_with_auth_round_trips()
    {
        Frame frame = ReadText(w => FrameWriter.WriteHello(w, Json("{\"token\":\"valid-token\"}")));
        Assert.Equal(FrameKind.Hello, frame.Kind);
        Assert.Equal("valid-token", frame.Auth.GetProperty("token").GetString());
    }

    [Fact]
    public void Hello_without_auth_has_no_auth_field_and_reads_as_undefined()
    {
        Assert.Equal("{\"t\":\"hello\"}", Write(w => FrameWriter.WriteHello(w, default)));
        Frame frame = FrameReader.ReadText("{\"t\":\"hello\"}"u8);
        Assert.Equal(JsonValueKind.Undefined, frame.Auth.ValueKind);
    }

    [Fact]
    public void Welcome_round_trips_and_matches_the_protocol_example()
    {
        string text = Write(w => FrameWriter.WriteWelcome(w, "XBtqzsRMPh7MaVvaAAAB", "room1", 25000, 20000, 1048576));
        Assert.Equal("{\"t\":\"welcome\",\"id\":\"XBtqzsRMPh7MaVvaAAAB\",\"roomId\":\"room1\",\"pingInterval\":25000,\"pingTimeout\":20000,\"maxMessageSize\":1048576}", text);
        Frame frame = FrameReader.ReadText(Encoding.UTF8.GetBytes(text));
        Assert.Equal(FrameKind.Welcome, frame.Kind);
        Assert.Equal("XBtqzsRMPh7MaVvaAAAB", frame.ConnectionId);
        Assert.Equal("room1", frame.RoomId);
        Assert.Equal(25000, frame.PingInterval);
        Assert.Equal(20000, frame.PingTimeout);
        Assert.Equal(1048576, frame.MaxMessageSize);
    }

    [Theory]
    [InlineData(FrameKind.Reject, "Authentication failed")]
    [InlineData(FrameKind.Error, "Not allowed to edit")]
    public void Reject_and_error_round_trip(FrameKind kind, string message)
    {
        Frame frame = ReadText(w =>
        {
            if (kind == FrameKind.Reject)
            {
                FrameWriter.WriteReject(w, message);
            }
            else
            {
                FrameWriter.WriteError(w, message);
            }
        });
        Assert.Equal(kind, frame.Kind);
        Assert.Equal(message, frame.Text);
    }

    [Fact]
    public void Ping_and_pong_round_trip()
    {
        Assert.Equal(FrameKind.Ping, FrameReader.ReadText(FrameWriter.PingFrame.Span).Kind);
        Assert.Equal(FrameKind.Pong, FrameReader.ReadText(FrameWriter.PongFrame.Span).Kind);
        Assert.Equal("{\"t\":\"ping\"}", Encoding.UTF8.GetString(FrameWriter.PingFrame.Span));
    }

    [Fact]
    public void Msg_writes_t_first_then_type_then_data_and_round_trips()
    {
        string text = Write(w => FrameWriter.WriteMessage(w, new { UserId = "user1", Active = true }, "my-presence", Web));
        Assert.Equal("{\"t\":\"msg\",\"type\":\"my-presence\",\"data\":{\"userId\":\"user1\",\"active\":true}}", text);
        Frame frame = FrameReader.ReadText(Encoding.UTF8.GetBytes(text));
        Assert.Equal(FrameKind.Message, frame.Kind);
        Assert.False(frame.Message.IsBinary);
        Assert.Equal("my-presence", frame.Message.Type);
        Assert.Equal("user1", frame.Message.Data.GetProperty("userId").GetString());
    }

    [Fact]
    public void Msg_without_type_omits_the_field_and_reads_type_as_null()
    {
        string text = Write(w => FrameWriter.WriteMessage(w, "Hello, server!", null, Web));
        Assert.Equal("{\"t\":\"msg\",\"data\":\"Hello, server!\"}", text);
        Assert.Null(FrameReader.ReadText(Encoding.UTF8.GetBytes(text)).Message.Type);
    }

    [Theory]
    [InlineData("{\"t\":\"msg\"}")]
    [InlineData("{\"t\":\"msg\",\"data\":null}")]
    [InlineData("{\"t\":\"msg\",\"type\":null}")]
    public void Absent_data_reads_as_null_and_an_absent_or_null_type_as_no_type(string text)
    {
        Message message = FrameReader.ReadText(Encoding.UTF8.GetBytes(text)).Message;
        Assert.Null(message.Type);
        Assert.Equal(JsonValueKind.Null, message.Data.ValueKind);
    }

    [Fact]
    public void The_empty_type_is_a_type_of_its_own_written_and_read_as_empty_in_a_text_frame()
    {
        // Written as "type":"" (only a null type is omitted), for every payload form and for a message retyped to "".
        Assert.Equal("{\"t\":\"msg\",\"type\":\"\",\"data\":1}", Write(w => FrameWriter.WriteMessage(w, 1, "", Web)));
        Assert.Equal("{\"t\":\"msg\",\"type\":\"\",\"data\":[1]}", Write(w => FrameWriter.WriteMessage(w, Json("[1]"), "", Web)));
        Assert.Equal("{\"t\":\"msg\",\"type\":\"\",\"data\":2}", Write(w => FrameWriter.WriteMessage(w, new Message("", Json("2")), null, Web)));
        Assert.Equal("{\"t\":\"msg\",\"type\":\"\",\"data\":3}", Write(w => FrameWriter.WriteMessage(w, new Message("x", Json("3")), "", Web)));
        Assert.Equal("{\"t\":\"msg\",\"data\":4}", Write(w => FrameWriter.WriteMessage(w, new Message(null, Json("4")), null, Web)));

        // Read back as "", by a client and by a server, with and without data; relayed as "".
        foreach (byte[] text in new[] { "{\"t\":\"msg\",\"type\":\"\",\"data\":{\"a\":1}}"u8.ToArray(), "{\"t\":\"msg\",\"type\":\"\"}"u8.ToArray() })
        {
            Message read = FrameReader.ReadText(text).Message;
            Assert.Equal("", read.Type);
            Assert.Equal("", FrameReader.ReadClientText(text).Message.Type);
            Assert.Contains("\"type\":\"\"", Write(w => FrameWriter.WriteMessage(w, read, null, Web)), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_message_keeps_the_empty_type_apart_from_no_type_and_takes_a_type_of_any_length()
    {
        // The original framework tells "" from null and limits neither: a Message carries what it was given.
        string longType = new('t', 300);
        Assert.Equal("", new Message("", Json("1")).Type);
        Assert.Equal("", new Message("", new byte[] { 1 }).Type);
        Assert.Null(new Message(null, Json("1")).Type);
        Assert.Equal("", Message.Create(1, "").Type);
        Assert.Equal(longType, new Message(longType, Json("1")).Type);
        Assert.Equal(longType, new Message(longType, new byte[] { 1 }).Type);
        Message received = FrameReader.ReadText("{\"t\":\"msg\",\"type\":\"a\",\"data\":1}"u8).Message;
        Assert.Equal("", received.WithType("").Type);
        Assert.Equal(longType, received.WithType(longType).Type);
        Assert.Null(received.WithType(null).Type);
        Assert.Equal("", new Message("b", new byte[] { 1 }).WithType("").Type);
    }

    [Fact]
    public void A_type_over_255_bytes_is_refused_by_the_v1_writer_in_every_form_before_anything_is_written()
    {
        string over = new('é', 128); // 256 bytes of UTF-8
        var message = new Message(over, Json("1"));
        var binary = new Message(over, new byte[] { 1 });
        var buffer = new ArrayBufferWriter<byte>();
        Assert.Contains("255", Assert.Throws<ArgumentException>(() => FrameWriter.WriteMessage(buffer, message, null, Web)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => FrameWriter.WriteMessage(buffer, binary, null, Web));
        Assert.Throws<ArgumentException>(() => FrameWriter.WriteMessage(buffer, new { a = 1 }, over, Web));
        Assert.Throws<ArgumentException>(() => FrameWriter.WriteMessage(buffer, new byte[] { 1 }, over, Web));
        Assert.Throws<ArgumentException>(() => FrameWriter.WriteMessage(buffer, new Message("ok", Json("1")), over, Web));
        Assert.Throws<ArgumentException>(() => FrameWriter.WriteTextMessage(buffer, over, Json("1")));
        Assert.Throws<ArgumentException>(() => FrameWriter.WriteBinaryMessage(buffer, over, [1]));
        Assert.Equal(0, buffer.WrittenCount);
    }

    [Fact]
    public void A_binary_frame_cannot_carry_the_empty_type_so_the_writer_refuses_it()
    {
        // typeLength 0 is no type: writing "" as it would turn it into null on the way.
        var buffer = new ArrayBufferWriter<byte>();
        Assert.Contains("\"\"", Assert.Throws<ArgumentException>(() => FrameWriter.WriteMessage(buffer, new byte[] { 1 }, "", Web)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => FrameWriter.WriteMessage(buffer, new ReadOnlyMemory<byte>([1]), "", Web));
        Assert.Throws<ArgumentException>(() => FrameWriter.WriteMessage(buffer, new Message("", new byte[] { 1 }), null, Web));
        Assert.Throws<ArgumentException>(() => FrameWriter.WriteBinaryMessage(buffer, "", [1]));
        Assert.Equal(0, buffer.WrittenCount);
        Assert.True(FrameWriter.WriteMessage(buffer, new Message("", new byte[] { 1 }), "b", Web)); // retyped, it is written
        Assert.Equal("b", FrameReader.ReadBinary(buffer.WrittenSpan).Message.Type);
    }

    [Fact]
    public void A_received_message_owns_its_data_which_is_parsed_only_when_read_and_relayed_as_its_exact_text()
    {
        byte[] frame = Encoding.UTF8.GetBytes("{\"t\":\"msg\",\"type\":\"edit\",\"data\": {\"text\" : \"caf\\u00e9\", \"n\":[1, 2.50]} }");
        Message message = FrameReader.ReadText(frame).Message;
        Array.Clear(frame); // the receive buffer is reused for the next message: the message must not depend on it

        var relayed = new ArrayBufferWriter<byte>();
        FrameWriter.WriteMessage(relayed, message, type: null, Web);
        Assert.Equal("{\"t\":\"msg\",\"type\":\"edit\",\"data\":{\"text\" : \"caf\\u00e9\", \"n\":[1, 2.50]}}", Encoding.UTF8.GetString(relayed.WrittenSpan));
        Assert.Equal("café", message.Data.GetProperty("text").GetString());
        Assert.Equal(2.5, message.GetData<Payload>(Web)!.N[1]);
        Assert.Equal(message.Data.GetRawText(), message.Data.GetRawText()); // parsed once, the same element every time

        // Retyped, it keeps the same text: a relay under another type still copies it as received.
        var retyped = new ArrayBufferWriter<byte>();
        FrameWriter.WriteMessage(retyped, message.WithType("copy"), type: null, Web);
        Assert.Equal("{\"t\":\"msg\",\"type\":\"copy\",\"data\":{\"text\" : \"caf\\u00e9\", \"n\":[1, 2.50]}}", Encoding.UTF8.GetString(retyped.WrittenSpan));
        Message binary = new Message("a", new byte[] { 7 }).WithType("b");
        Assert.True(binary.IsBinary);
        Assert.Equal(("b", (byte)7), (binary.Type, binary.Bytes.Span[0]));

        Message nothing = FrameReader.ReadText("{\"t\":\"msg\",\"data\":null}"u8).Message;
        Assert.Equal(JsonValueKind.Null, nothing.Data.ValueKind);
        Assert.Null(nothing.GetData<Payload>(Web));
        var written = new ArrayBufferWriter<byte>();
        FrameWriter.WriteMessage(written, nothing, type: null, Web);
        Assert.Equal("{\"t\":\"msg\"}", Encoding.UTF8.GetString(written.WrittenSpan)); // null data is written as no data, as before
    }

    private sealed record Payload(string Text, double[] N);

    [Fact]
    public void Relayed_data_is_copied_as_the_exact_json_text_and_unknown_fields_are_dropped()
    {
        byte[] received = "{\"data\":{\"s\":\"caf\\u00e9 \\\"q\\\"\",\"n\":1.50},\"from\":\"forged-id\",\"type\":\"doc\",\"t\":\"msg\"}"u8.ToArray();
        Message message = FrameReader.ReadText(received).Message;
        string relayed = Write(w => FrameWriter.WriteMessage(w, message, null, Web));
        Assert.Equal("{\"t\":\"msg\",\"type\":\"doc\",\"data\":{\"s\":\"caf\\u00e9 \\\"q\\\"\",\"n\":1.50}}", relayed);
    }

    [Theory]
    [InlineData("doc", new byte[] { 1, 2, 3 })]
    [InlineData(null, new byte[] { 0xff, 0x00 })]
    [InlineData("crdt", new byte[0])]
    public void Binary_round_trips(string? type, byte[] payload)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Assert.True(FrameWriter.WriteMessage(buffer, payload, type, Web));
        Assert.Equal(0x01, buffer.WrittenSpan[0]);
        Assert.Equal(type is null ? 0 : Encoding.UTF8.GetByteCount(type), buffer.WrittenSpan[1]);
        Message message = FrameReader.ReadBinary(buffer.WrittenSpan).Message;
        Assert.True(message.IsBinary);
        Assert.Equal(type, message.Type);
        Assert.Equal(payload, message.Bytes.ToArray());
    }

    [Fact]
    public void Message_JsonElement_and_ReadOnlyMemory_are_sent_as_they_are()
    {
        var buffer = new ArrayBufferWriter<byte>();
        Assert.False(FrameWriter.WriteMessage(buffer, Json("[1,2]"), "list", Web));
        Assert.Equal("{\"t\":\"msg\",\"type\":\"list\",\"data\":[1,2]}", Encoding.UTF8.GetString(buffer.WrittenSpan));

        buffer.ResetWrittenCount();
        Assert.True(FrameWriter.WriteMessage(buffer, new ReadOnlyMemory<byte>([9]), "b", Web));
        Assert.Equal(new byte[] { 1, 1, (byte)'b', 9 }, buffer.WrittenSpan.ToArray());

        buffer.ResetWrittenCount();
        Assert.True(FrameWriter.WriteMessage(buffer, new Message("img", new byte[] { 7 }), null, Web));
        Assert.Equal("img", FrameReader.ReadBinary(buffer.WrittenSpan).Message.Type);
    }

    [Fact]
    public void A_type_of_255_bytes_is_legal_and_256_is_refused_by_the_writer()
    {
        string max = new('x', 255);
        Assert.Equal(max, FrameReader.ReadText(Encoding.UTF8.GetBytes(Write(w => FrameWriter.WriteMessage(w, 1, max, Web)))).Message.Type);
        Assert.Throws<ArgumentException>(() => Write(w => FrameWriter.WriteMessage(w, 1, max + "x", Web)));
    }

    [Fact]
    public void Unknown_kind_decodes_as_unknown_so_the_receiver_decides()
        => Assert.Equal(FrameKind.Unknown, FrameReader.ReadText("{\"t\":\"subscribe\",\"x\":1}"u8).Kind);

    [Fact]
    public void Message_GetData_uses_web_defaults()
    {
        Message message = FrameReader.ReadText("{\"t\":\"msg\",\"data\":{\"UserId\":\"u\",\"active\":true}}"u8).Message;
        Presence? presence = message.GetData<Presence>();
        Assert.Equal(new Presence("u", true), presence);
        Assert.Throws<InvalidOperationException>(() => new Message("b", new byte[] { 1 }).GetData<Presence>());
        Assert.Equal(new Presence("v", false), Message.Create(new Presence("v", false)).GetData<Presence>());
    }

    private sealed record Presence(string UserId, bool Active);

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;

    private static string Write(Action<IBufferWriter<byte>> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static Frame ReadText(Action<IBufferWriter<byte>> write) => FrameReader.ReadText(Encoding.UTF8.GetBytes(Write(write)));
}
