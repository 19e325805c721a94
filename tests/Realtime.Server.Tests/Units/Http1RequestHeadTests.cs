using System.Buffers;
using System.Text;
using CsCheck;
using Realtime.Server.Internal.Dense;
using static Realtime.Server.Internal.Dense.Http1RequestHead;

namespace Realtime.Server.Tests.Units;

/// <summary>
/// The dense listener's HTTP/1.1 request-head parser against hostile input: whatever arrives, it reads a head, asks for more within
/// its bounds, or refuses with a status and a reason; it never throws, and it reads the same head however the bytes are split.
/// </summary>
public sealed class Http1RequestHeadTests
{
    private const string Upgrade = "GET /realtime?roomId=room1&user=ann HTTP/1.1\r\nHost: 127.0.0.1:5001\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                   + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://localhost\r\n\r\n";

    [Fact]
    public void An_upgrade_request_is_read_with_its_path_query_and_headers_and_the_bytes_after_it_are_left()
    {
        byte[] bytes = Encoding.Latin1.GetBytes(Upgrade + "\x81\x00");
        var buffer = new ReadOnlySequence<byte>(bytes);

        Assert.Equal(Status.Complete, TryRead(buffer, out Http1RequestHead? head, out SequencePosition consumed, out _, out _));
        Assert.Equal("GET", head!.Method);
        Assert.Equal("/realtime", head.Path);
        Assert.Equal("?roomId=room1&user=ann", head.Query);
        Assert.Equal("websocket", head["upgrade"]);
        Assert.Equal("dGhlIHNhbXBsZSBub25jZQ==", head["Sec-WebSocket-Key"]);
        Assert.Equal(6, head.Headers.Count);
        Assert.Equal(new byte[] { 0x81, 0x00 }, buffer.Slice(consumed).ToArray());
    }

    [Fact]
    public void A_head_without_its_empty_line_is_incomplete_until_it_reaches_the_size_bound()
    {
        Assert.Equal(Status.Incomplete, Read(Upgrade[..^2], out _, out _));
        Assert.Equal(Status.Incomplete, Read("", out _, out _));
        Assert.Equal(Status.Invalid, Read("GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + new string('a', MaxBytes), out int status, out _));
        Assert.Equal(431, status);
    }

    public static TheoryData<string, string, int> Hostile => new()
    {
        { "bare LF line ends", "GET / HTTP/1.1\nHost: x\n\n", 400 },
        { "a bare LF after a proper line", "GET / HTTP/1.1\r\nHost: x\n\n", 400 },
        { "HTTP/1.0", "GET / HTTP/1.0\r\nHost: x\r\n\r\n", 505 },
        { "HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505 },
        { "not HTTP at all", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400 },
        { "no target", "GET HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
        { "an absolute-form target", "GET http://x/realtime HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
        { "an asterisk target", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
        { "a fragment", "GET /realtime#x HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
        { "two spaces in the request line", "GET  /realtime HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
        { "a method with a delimiter", "G(T /realtime HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
        { "a target with a control byte", "GET /real\x01time HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
        { "a target with a byte above 0x7E", "GET /r\u00e9altime HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
        { "folded header", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400 },
        { "space before the colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400 },
        { "no colon", "GET / HTTP/1.1\r\nHost x\r\n\r\n", 400 },
        { "an empty header name", "GET / HTTP/1.1\r\n: x\r\nHost: x\r\n\r\n", 400 },
        { "NUL in a value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", 400 },
        { "a CR alone in a value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400 },
        { "a byte above 0x7E in a value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: caf\u00e9\r\n\r\n", 400 },
        { "no Host", "GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", 400 },
        { "two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400 },
        { "too many headers", "GET / HTTP/1.1\r\nHost: x\r\n" + string.Concat(Enumerable.Range(0, MaxHeaders).Select(i => $"X-{i}: v\r\n")) + "\r\n", 431 },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Hostile_heads_are_refused_with_a_status_and_a_reason(string what, string text, int expected)
    {
        Assert.Equal(Status.Invalid, Read(text, out int status, out string reason));
        Assert.True(expected == status, $"{what}: {status} {reason}");
        Assert.False(string.IsNullOrWhiteSpace(reason));
        Assert.DoesNotContain('\n', reason);
    }

    [Fact]
    public void Whitespace_around_a_value_is_not_part_of_it_and_an_empty_value_is_allowed()
    {
        Assert.Equal(Status.Complete, Read("GET / HTTP/1.1\r\nHost: x\r\nX-A: \t a b \t\r\nX-Empty:\r\n\r\n", out _, out _, out Http1RequestHead? head));
        Assert.Equal("a b", head!["x-a"]);
        Assert.Equal(string.Empty, head["X-Empty"]);
    }

    private static readonly Gen<string> TokenText = Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'+#$%&^`|"], 1, 20];

    private static readonly Gen<string> ValueText = Gen.String[Gen.Char[" !\"#$%&'()*+,-./0123456789:;<=>?@ABCXYZ[\\]^_`abcxyz{|}~\t"], 0, 40];

    private static readonly Gen<string> PathText = Gen.String[Gen.Char["abcXYZ0189-._~%/:@!$&'()*+,;="], 0, 30];

    private static readonly Gen<(string Method, string Path, string Query, (string Name, string Value)[] Headers)> Requests =
        Gen.Select(TokenText, PathText, PathText.Select(q => q.Length == 0 ? "" : "?" + q), Gen.Select(TokenText, ValueText).Array[0, 10],
            (method, path, query, headers) => (method, "/" + path, query,
                headers.Where(h => !h.Item1.Equals("Host", StringComparison.OrdinalIgnoreCase)).Select(h => (h.Item1, h.Item2)).ToArray()));

    [Fact]
    public void Property_any_well_formed_head_reads_back_its_parts_however_its_bytes_are_split()
    {
        Requests.Select(Gen.Int[1, 64], (request, split) => (request, split)).Sample(sample =>
        {
            ((string method, string path, string query, (string Name, string Value)[] headers), int split) = sample;
            string text = $"{method} {path}{query} HTTP/1.1\r\nHost: h\r\n" + string.Concat(headers.Select(h => $"{h.Name}: {h.Value}\r\n")) + "\r\n";
            byte[] bytes = Encoding.ASCII.GetBytes(text);
            Status status = TryRead(Segmented(bytes, split), out Http1RequestHead? head, out _, out int code, out string reason);
            if (status != Status.Complete)
            {
                throw new InvalidOperationException($"{status} {code} {reason} for {text}");
            }

            if (head!.Method != method || head.Path != path || head.Query != query || head.Headers.Count != headers.Length + 1)
            {
                throw new InvalidOperationException("read back wrong: " + text);
            }

            for (int i = 0; i < headers.Length; i++)
            {
                if (head.Headers[i + 1].Key != headers[i].Name || head.Headers[i + 1].Value != headers[i].Value.Trim(' ', '\t'))
                {
                    throw new InvalidOperationException($"header {i} read back wrong: {text}");
                }
            }

            // Every prefix is incomplete (never an error, never a head), so a head that arrives byte by byte is read the same.
            int cut = bytes.Length / (split + 1);
            if (TryRead(new ReadOnlySequence<byte>(bytes, 0, cut), out _, out _, out _, out _) != Status.Incomplete)
            {
                throw new InvalidOperationException($"a prefix of {cut} bytes was not incomplete: {text}");
            }
        }, iter: 5_000);
    }

    [Fact]
    public void Property_mutated_heads_never_throw_and_never_read_a_head_with_a_control_byte_or_a_second_host()
    {
        byte[] valid = Encoding.ASCII.GetBytes(Upgrade);
        Gen.Select(Gen.Int[0, valid.Length - 1].Array[1, 6], Gen.Byte.Array[1, 6], (at, with) => (at, with)).Sample(mutation =>
        {
            byte[] bytes = (byte[])valid.Clone();
            for (int i = 0; i < Math.Min(mutation.at.Length, mutation.with.Length); i++)
            {
                bytes[mutation.at[i]] = mutation.with[i];
            }

            Status status = TryRead(new ReadOnlySequence<byte>(bytes), out Http1RequestHead? head, out _, out int code, out string reason);
            if (status == Status.Invalid && (code is not (400 or 431 or 505) || string.IsNullOrEmpty(reason)))
            {
                throw new InvalidOperationException($"refused with {code} '{reason}'");
            }

            if (head is not null && head.Headers.Any(h => h.Value.Any(c => c < 0x20 && c != '\t' || c > 0x7E) || h.Key.Any(c => c <= 0x20 || c >= 0x7F)))
            {
                throw new InvalidOperationException("a head with a control byte was read: " + Encoding.Latin1.GetString(bytes));
            }
        }, iter: 20_000);
    }

    private static Status Read(string text, out int status, out string reason) => Read(text, out status, out reason, out _);

    private static Status Read(string text, out int status, out string reason, out Http1RequestHead? head)
        => TryRead(new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(text)), out head, out _, out status, out reason);

    /// <summary>The bytes as a sequence of segments of <paramref name="size"/> bytes.</summary>
    private static ReadOnlySequence<byte> Segmented(byte[] bytes, int size)
    {
        Segment? first = null, last = null;
        for (int at = 0; at < bytes.Length; at += size)
        {
            var segment = new Segment(bytes.AsMemory(at, Math.Min(size, bytes.Length - at)), last);
            first ??= segment;
            last = segment;
        }

        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, Segment? previous)
        {
            Memory = memory;
            if (previous is not null)
            {
                RunningIndex = previous.RunningIndex + previous.Memory.Length;
                previous.Next = this;
            }
        }
    }
}
