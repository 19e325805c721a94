using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;

namespace Realtime.Benchmarks;

/// <summary>
/// json0 on the server's hot path: a three-component operation (a list insert, a string insert and a number add) applied to a
/// small document, and transformed (side left, as the server does) against a concurrent three-component operation that touches the
/// same list, string and number; plus compose of the two, as a client merges queued operations. Apply works on a fresh copy of
/// the document each time (the copy is measured too, as <c>Copy</c>, to subtract).
/// </summary>
[MemoryDiagnoser]
public class OtTypeBenchmarks
{
    private readonly IOtType _json0 = OtTypes.Json0;
    private JsonNode _document = null!;
    private JsonNode _op = null!;
    private JsonNode _concurrent = null!;
    private JsonNode _next = null!;

    [GlobalSetup]
    public void Setup()
    {
        _document = JsonNode.Parse("""{"title":"Shopping","items":["milk","eggs","bread"],"notes":"buy before noon","count":3,"owner":{"name":"ana","age":30}}""")!;
        _op = JsonNode.Parse("""[{"p":["items",1],"li":"butter"},{"p":["notes",4],"si":"it all "},{"p":["count"],"na":1}]""")!;
        _concurrent = JsonNode.Parse("""[{"p":["items",0],"ld":"milk"},{"p":["notes",0],"si":"Please "},{"p":["count"],"na":-1}]""")!;
        _next = JsonNode.Parse("""[{"p":["items",2],"li":"jam"},{"p":["notes",11],"sd":"all "},{"p":["count"],"na":2}]""")!;
    }

    [Benchmark]
    public JsonNode Copy() => _document.DeepClone();

    [Benchmark]
    public JsonNode? Apply() => _json0.Apply(_document.DeepClone(), _op);

    [Benchmark]
    public JsonNode Transform() => _json0.Transform(_op, _concurrent, OtSide.Left);

    [Benchmark]
    public JsonNode Compose() => _json0.Compose(_op, _next);
}
