using System.Buffers;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Realtime.Protocol;

namespace Realtime.Benchmarks;

/// <summary>Encode and decode of application messages, text and binary, by payload size.</summary>
[MemoryDiagnoser]
public class FrameBenchmarks
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private readonly ArrayBufferWriter<byte> _output = new(256 * 1024);
    private string _text = string.Empty;
    private byte[] _payload = [];
    private byte[] _textFrame = [];
    private byte[] _binaryFrame = [];
    private Message _received;

    [Params(16, 1024, 65536)]
    public int PayloadSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _text = new string('x', PayloadSize);
        _payload = Encoding.ASCII.GetBytes(_text);
        FrameWriter.WriteMessage(_output, new Document(_text), "my-document", Web);
        _textFrame = _output.WrittenSpan.ToArray();
        _received = FrameReader.ReadText(_textFrame).Message;
        _output.ResetWrittenCount();
        FrameWriter.WriteBinaryMessage(_output, "crdt", _payload);
        _binaryFrame = _output.WrittenSpan.ToArray();
    }

    [Benchmark(Description = "msg: serialize an object")]
    public int WriteMsg()
    {
        _output.ResetWrittenCount();
        FrameWriter.WriteMessage(_output, new Document(_text), "my-document", Web);
        return _output.WrittenCount;
    }

    [Benchmark(Description = "msg: decode")]
    public Frame ReadMsg() => FrameReader.ReadText(_textFrame);

    [Benchmark(Description = "msg: relay a received message (raw data copy)")]
    public int RelayMsg()
    {
        _output.ResetWrittenCount();
        FrameWriter.WriteMessage(_output, _received, null, Web);
        return _output.WrittenCount;
    }

    [Benchmark(Description = "binary: encode")]
    public int WriteBinary()
    {
        _output.ResetWrittenCount();
        FrameWriter.WriteBinaryMessage(_output, "crdt", _payload);
        return _output.WrittenCount;
    }

    [Benchmark(Description = "binary: decode")]
    public Frame ReadBinary() => FrameReader.ReadBinary(_binaryFrame);

    private sealed record Document(string Content);
}
