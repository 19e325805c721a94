using System.Buffers;
using System.Text;
using System.Text.Json;
using Realtime.Protocol;

namespace Realtime.Shared.Tests;

/// <summary>The optional W3C trace context fields of <c>hello</c> and <c>msg</c> (docs/protocol.md, "Trace context").</summary>
public class TraceContextFrameTests
{
    private const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    [Fact]
    public void Hello_carries_traceparent_and_tracestate_after_auth()
    {
        string text = Write(w => FrameWriter.WriteHello(w, JsonDocument.Parse("{\"token\":\"t\"}").RootElement, TraceParent, "congo=t61rcWkgMzE"));
        Assert.Equal($"{{\"t\":\"hello\",\"auth\":{{\"token\":\"t\"}},\"traceparent\":\"{TraceParent}\",\"tracestate\":\"congo=t61rcWkgMzE\"}}", text);
        Frame frame = FrameReader.ReadClientText(Encoding.UTF8.GetBytes(text));
        Assert.Equal(FrameKind.Hello, frame.Kind);
        Assert.Equal(TraceParent, frame.TraceParent);
        Assert.Equal("congo=t61rcWkgMzE", frame.TraceState);
        Assert.Equal("t", frame.Auth.GetProperty("token").GetString());
    }

    [Fact]
    public void A_message_carries_its_traceparent_after_data_and_the_decoded_message_keeps_it()
    {
        string text = Write(w => FrameWriter.WriteMessage(w, new { a = 1 }, "doc", Web, TraceParent, traceState: null));
        Assert.Equal($"{{\"t\":\"msg\",\"type\":\"doc\",\"data\":{{\"a\":1}},\"traceparent\":\"{TraceParent}\"}}", text);
        Frame frame = FrameReader.ReadClientText(Encoding.UTF8.GetBytes(text));
        Assert.Equal(TraceParent, frame.TraceParent);
        Assert.Null(frame.TraceState);
        Assert.Equal(TraceParent, frame.Trace?.TraceParent); // beside the message: a Message never grows by a trace context
        Assert.Equal("{\"a\":1}", frame.Message.Data.GetRawText());
    }

    [Fact]
    public void Every_text_payload_form_carries_it_and_a_binary_frame_is_written_without_it()
    {
        Message received = FrameReader.ReadText("{\"t\":\"msg\",\"data\":[1]}"u8).Message;
        foreach (string text in new[]
        {
            Write(w => FrameWriter.WriteMessage(w, received, null, Web, TraceParent, null)),
            Write(w => FrameWriter.WriteMessage(w, JsonDocument.Parse("[1]").RootElement, null, Web, TraceParent, null)),
            Write(w => FrameWriter.WriteMessage<object>(w, JsonDocument.Parse("[1]").RootElement, null, Web, TraceParent, null)),
        })
        {
            Assert.Equal($"{{\"t\":\"msg\",\"data\":[1],\"traceparent\":\"{TraceParent}\"}}", text);
        }

        var binary = new ArrayBufferWriter<byte>();
        Assert.True(FrameWriter.WriteMessage(binary, new byte[] { 9 }, "b", Web, TraceParent, "x=y"));
        Assert.Equal(new byte[] { 0x01, 1, (byte)'b', 9 }, binary.WrittenSpan.ToArray());
    }

    [Fact]
    public void Without_a_traceparent_nothing_is_written_and_a_tracestate_alone_is_dropped()
    {
        Assert.Equal("{\"t\":\"hello\"}", Write(w => FrameWriter.WriteHello(w, default, null, "x=y")));
        Assert.Equal("{\"t\":\"msg\",\"type\":\"a\"}", Write(w => FrameWriter.WriteMessage(w, default(JsonElement), "a", Web, null, "x=y")));
        Frame frame = FrameReader.ReadClientText("{\"t\":\"msg\",\"tracestate\":\"x=y\"}"u8);
        Assert.Null(frame.TraceParent);
        Assert.Null(frame.TraceState);
        Assert.Null(frame.Trace);
    }

    [Theory]
    [InlineData("{\"t\":\"msg\",\"type\":\"a\",\"traceparent\":42}")]
    [InlineData("{\"t\":\"msg\",\"type\":\"a\",\"traceparent\":null}")]
    [InlineData("{\"t\":\"msg\",\"type\":\"a\",\"traceparent\":{\"x\":[1]}}")]
    [InlineData("{\"t\":\"msg\",\"type\":\"a\",\"traceparent\":\"\\ud800\"}")]
    [InlineData("{\"t\":\"hello\",\"traceparent\":[\"00\"],\"tracestate\":7}")]
    public void A_trace_field_of_the_wrong_type_is_ignored_never_a_protocol_error(string json)
    {
        Frame frame = FrameReader.ReadClientText(Encoding.UTF8.GetBytes(json));
        Assert.NotEqual(FrameKind.Unknown, frame.Kind);
        Assert.Null(frame.TraceParent);
        if (frame.Kind == FrameKind.Message)
        {
            Assert.Equal("a", frame.Message.Type);
        }
    }

    [Fact]
    public void A_malformed_traceparent_string_is_kept_as_sent_and_an_oversized_one_is_dropped()
    {
        Assert.Equal("not-a-trace", FrameReader.ReadClientText("{\"t\":\"msg\",\"traceparent\":\"not-a-trace\"}"u8).TraceParent);
        string huge = new('0', WireTraceContext.MaxTraceParentLength + 1);
        Assert.Null(FrameReader.ReadClientText(Encoding.UTF8.GetBytes($"{{\"t\":\"msg\",\"traceparent\":\"{huge}\"}}")).TraceParent);
    }

    [Fact]
    public void A_reader_that_does_not_trace_skips_the_fields()
    {
        Frame frame = FrameReader.ReadClientText(Encoding.UTF8.GetBytes($"{{\"t\":\"msg\",\"type\":\"a\",\"traceparent\":\"{TraceParent}\"}}"), traceContext: false);
        Assert.Equal("a", frame.Message.Type);
        Assert.Null(frame.TraceParent);
        Assert.Null(frame.Trace);
    }

    [Fact]
    public void A_reader_that_does_not_trace_allocates_no_more_for_a_frame_with_a_trace_context_than_for_one_without()
    {
        byte[] plain = "{\"t\":\"msg\",\"type\":\"a\",\"data\":[1,2]}"u8.ToArray();
        byte[] traced = Encoding.UTF8.GetBytes($"{{\"t\":\"msg\",\"type\":\"a\",\"data\":[1,2],\"traceparent\":\"{TraceParent}\",\"tracestate\":\"x=y\"}}");
        Assert.Equal(Allocated(plain, traceContext: false), Allocated(traced, traceContext: false));
        Assert.True(Allocated(traced, traceContext: true) > Allocated(plain, traceContext: true)); // the strings, only when asked for

        static long Allocated(byte[] frame, bool traceContext)
        {
            FrameReader.ReadClientText(frame, traceContext); // warm
            long before = GC.GetAllocatedBytesForCurrentThread();
            FrameReader.ReadClientText(frame, traceContext);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
    }

    [Fact]
    public void A_relayed_message_is_written_without_the_trace_context_it_arrived_with()
    {
        Frame frame = FrameReader.ReadClientText(Encoding.UTF8.GetBytes($"{{\"t\":\"msg\",\"type\":\"a\",\"data\":1,\"traceparent\":\"{TraceParent}\"}}"));
        Assert.NotNull(frame.Trace);
        Message received = frame.Message;
        Assert.Equal("{\"t\":\"msg\",\"type\":\"a\",\"data\":1}", Write(w => FrameWriter.WriteMessage(w, received, null, Web)));
    }

    private static string Write(Action<ArrayBufferWriter<byte>> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
