using System.Text;
using BenchmarkDotNet.Attributes;
using Realtime.Server.Internal.Protocols.JsCollaboration;

namespace Realtime.Benchmarks;

/// <summary>
/// The compatibility endpoint's outbound <c>m</c> event: the original's compression rule (gzip from 128 bytes, sent when the gzip
/// is shorter than the JSON) and the Socket.IO frame around it. Paid once per broadcast that reaches a compatibility member. The
/// payloads are made with a fixed seed: a presence update of about 200 bytes, a batch of edits of about 1 KB, a document of
/// about 16 KB, and 4 KB of random base64 (a binary blob as JSON text, which gzip only entropy-codes).
/// </summary>
[MemoryDiagnoser]
public class JsCollaborationEncodeBenchmarks
{
    private static readonly string[] Words =
        "the quick brown fox jumps over a lazy dog while every paragraph keeps its heading and list items in order".Split(' ');

    private byte[] _json = [];

    [Params("200 B JSON", "1 KB JSON", "16 KB JSON", "4 KB random base64")]
    public string Payload { get; set; } = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(20261207);
        _json = Encoding.UTF8.GetBytes(Payload switch
        {
            "200 B JSON" => Presence(random),
            "1 KB JSON" => Edits(random, 1024),
            "16 KB JSON" => Document(random, 16 * 1024),
            _ => RandomBase64(random, 4096),
        });
    }

    [Benchmark(Description = "compress by the rule")]
    public bool Compress() => CollaborationCompression.TryCompress(_json, out _);

    [Benchmark(Description = "m event: encode")]
    public byte[] Encode() => CollaborationEvents.EncodeMessage("my-document", _json);

    private static string Presence(Random random) =>
        $"{{\"userId\":\"{Id(random, 24)}\",\"name\":\"{Word(random)} {Word(random)}\",\"active\":true," +
        $"\"cursor\":{{\"anchor\":{random.Next(10_000)},\"head\":{random.Next(10_000)}}}," +
        $"\"selection\":[{{\"from\":{random.Next(10_000)},\"to\":{random.Next(10_000)}}}]," +
        $"\"color\":\"#{random.Next(0x1000000):x6}\",\"typing\":false,\"at\":{1_733_000_000_000L + random.Next()}}}";

    private static string Edits(Random random, int bytes)
    {
        var json = new StringBuilder($"{{\"clientId\":\"{Id(random, 24)}\",\"version\":{random.Next(100_000)},\"ops\":[");
        while (json.Length < bytes - 40)
        {
            json.Append(random.Next(3) == 0
                ? $"{{\"type\":\"delete\",\"pos\":{random.Next(100_000)},\"length\":{1 + random.Next(20)}}},"
                : $"{{\"type\":\"insert\",\"pos\":{random.Next(100_000)},\"text\":\"{Word(random)} {Word(random)}\"}},");
        }

        json.Length--;
        return json.Append("]}").ToString();
    }

    private static string Document(Random random, int bytes)
    {
        var json = new StringBuilder($"{{\"version\":{random.Next(100_000)},\"blocks\":[");
        while (json.Length < bytes - 200)
        {
            string type = random.Next(4) == 0 ? "heading" : "paragraph";
            json.Append($"{{\"key\":\"{Id(random, 8)}\",\"type\":\"{type}\",\"text\":\"");
            for (int i = 3 + random.Next(12); i > 0; i--)
            {
                json.Append(Word(random)).Append(i > 1 ? ' ' : '.');
            }

            json.Append($"\",\"depth\":{random.Next(3)},\"styles\":[{{\"offset\":{random.Next(40)},\"length\":{random.Next(20)},\"style\":\"BOLD\"}}]}},");
        }

        json.Length--;
        return json.Append("]}").ToString();
    }

    private static string RandomBase64(Random random, int bytes)
    {
        byte[] blob = new byte[bytes];
        random.NextBytes(blob);
        return "{\"blob\":\"" + Convert.ToBase64String(blob)[..(bytes - 11)] + "\"}";
    }

    private static string Word(Random random) => Words[random.Next(Words.Length)];

    private static string Id(Random random, int length)
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        return string.Create(length, random, (span, r) =>
        {
            for (int i = 0; i < span.Length; i++)
            {
                span[i] = Alphabet[r.Next(Alphabet.Length)];
            }
        });
    }
}
