using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Realtime.Protocol;

namespace Realtime.Benchmarks;

/// <summary>Encode and decode of the other frame kinds: hello, welcome, reject, error, ping, pong.</summary>
[MemoryDiagnoser]
public class ControlFrameBenchmarks
{
    private readonly ArrayBufferWriter<byte> _output = new(4096);
    private readonly JsonElement _auth = JsonDocument.Parse("{\"token\":\"valid-token\"}").RootElement;
    private byte[] _hello = [];
    private byte[] _welcome = [];
    private byte[] _error = [];

    [GlobalSetup]
    public void Setup()
    {
        _hello = Encode(o => FrameWriter.WriteHello(o, _auth));
        _welcome = Encode(o => FrameWriter.WriteWelcome(o, "XBtqzsRMPh7MaVvaAAAB", "room1", 25000, 20000, 1048576));
        _error = Encode(o => FrameWriter.WriteError(o, "Not allowed to edit"));
    }

    [Benchmark(Description = "hello: encode")]
    public int WriteHello() => Write(o => FrameWriter.WriteHello(o, _auth));

    [Benchmark(Description = "hello: decode")]
    public Frame ReadHello() => FrameReader.ReadText(_hello);

    [Benchmark(Description = "welcome: encode")]
    public int WriteWelcome() => Write(o => FrameWriter.WriteWelcome(o, "XBtqzsRMPh7MaVvaAAAB", "room1", 25000, 20000, 1048576));

    [Benchmark(Description = "welcome: decode")]
    public Frame ReadWelcome() => FrameReader.ReadText(_welcome);

    [Benchmark(Description = "reject: encode")]
    public int WriteReject() => Write(o => FrameWriter.WriteReject(o, "Authentication failed"));

    [Benchmark(Description = "error: decode")]
    public Frame ReadError() => FrameReader.ReadText(_error);

    [Benchmark(Description = "ping: decode")]
    public Frame ReadPing() => FrameReader.ReadText(FrameWriter.PingFrame.Span);

    [Benchmark(Description = "pong: decode")]
    public Frame ReadPong() => FrameReader.ReadText(FrameWriter.PongFrame.Span);

    private int Write(Action<IBufferWriter<byte>> write)
    {
        _output.ResetWrittenCount();
        write(_output);
        return _output.WrittenCount;
    }

    private byte[] Encode(Action<IBufferWriter<byte>> write)
    {
        Write(write);
        return _output.WrittenSpan.ToArray();
    }
}
