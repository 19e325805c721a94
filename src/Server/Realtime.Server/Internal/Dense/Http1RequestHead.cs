using System.Buffers;
using System.Text;
using Microsoft.Extensions.Primitives;

namespace Realtime.Server.Internal.Dense;

/// <summary>
/// The head of an HTTP/1.1 request, read by a strict parser for the dense listener, which accepts WebSocket upgrades and nothing
/// else: a request line <c>METHOD SP origin-form SP HTTP/1.1</c>, then header lines <c>name ":" OWS value OWS</c>, each ended by
/// CRLF, then an empty line. Anything else is refused with a status and a one-line reason: bare LF, folded or malformed lines,
/// control bytes or bytes above 0x7E, a head over <see cref="MaxBytes"/> or with more than <see cref="MaxHeaders"/> headers, another
/// version, a missing or repeated <c>Host</c>. The parser never throws on its input.
/// </summary>
internal sealed class Http1RequestHead
{
    /// <summary>The longest request head accepted, request line and headers included (431 past it).</summary>
    public const int MaxBytes = 8 * 1024;

    /// <summary>The most header lines accepted (431 past it).</summary>
    public const int MaxHeaders = 64;

    private Http1RequestHead(string method, string path, string query, List<KeyValuePair<string, string>> headers)
    {
        Method = method;
        Path = path;
        Query = query;
        Headers = headers;
    }

    /// <summary>The request method, as sent (methods are case-sensitive).</summary>
    public string Method { get; }

    /// <summary>The target's path, still percent-encoded, starting with <c>/</c>.</summary>
    public string Path { get; }

    /// <summary>The target's query with its <c>?</c>, or empty.</summary>
    public string Query { get; }

    /// <summary>The header lines in order; names as sent (compare them case-insensitively), values without surrounding whitespace.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>The outcome of one attempt to read a head.</summary>
    public enum Status
    {
        /// <summary>Not all of the head has arrived yet (and what has is within the bounds): read more.</summary>
        Incomplete,

        /// <summary>The head was read; <c>consumed</c> is where the bytes after it start.</summary>
        Complete,

        /// <summary>The head is not acceptable; the connection gets the status code and reason, then is closed.</summary>
        Invalid,
    }

    /// <summary>The first value of a header (names compared case-insensitively), or <see langword="null"/>.</summary>
    public string? this[string name] => Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>Every value of a header, one per line it appears on, in order (names compared case-insensitively).</summary>
    public StringValues Values(string name)
    {
        StringValues values = default;
        foreach ((string key, string value) in Headers)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                values = StringValues.Concat(values, value);
            }
        }

        return values;
    }

    /// <summary>The elements of a comma-separated list header over all its lines, trimmed, empty ones left out (RFC 9110 §5.6.1).</summary>
    public IReadOnlyList<string> ListValues(string name)
    {
        List<string>? elements = null;
        foreach (string? line in Values(name))
        {
            foreach (string element in line!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                (elements ??= []).Add(element);
            }
        }

        return elements ?? (IReadOnlyList<string>)[];
    }

    /// <summary>Reads a request head from the start of <paramref name="buffer"/>.</summary>
    /// <param name="buffer">What has arrived so far.</param>
    /// <param name="head">The head, when <see cref="Status.Complete"/>.</param>
    /// <param name="consumed">Where the bytes after the head start, when <see cref="Status.Complete"/>.</param>
    /// <param name="statusCode">The HTTP status to answer with, when <see cref="Status.Invalid"/>.</param>
    /// <param name="reason">A one-line reason for that status, when <see cref="Status.Invalid"/>.</param>
    public static Status TryRead(in ReadOnlySequence<byte> buffer, out Http1RequestHead? head, out SequencePosition consumed, out int statusCode, out string reason)
    {
        head = null;
        consumed = buffer.Start;
        statusCode = 0;
        reason = string.Empty;
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> headBytes, "\r\n\r\n"u8, advancePastDelimiter: true))
        {
            if (buffer.Length >= MaxBytes)
            {
                return Fail(431, "The request head is larger than 8 KiB.", out statusCode, out reason);
            }

            // A bare LF ends nothing here, but refusing it at once spares the wait for a CRLF CRLF that will never come.
            return HasBareLf(buffer.ToArray())
                ? Fail(400, "A line of the request head ends with a bare LF; HTTP/1.1 lines end with CRLF.", out statusCode, out reason)
                : Status.Incomplete;
        }

        if (headBytes.Length + 4 > MaxBytes)
        {
            return Fail(431, "The request head is larger than 8 KiB.", out statusCode, out reason);
        }

        byte[] text = headBytes.ToArray();
        if (!TryParse(text, out head, out statusCode, out reason))
        {
            return Status.Invalid;
        }

        consumed = reader.Position;
        return Status.Complete;
    }

    private static bool TryParse(ReadOnlySpan<byte> text, out Http1RequestHead? head, out int statusCode, out string reason)
    {
        head = null;
        statusCode = 400;
        int end = text.IndexOf("\r\n"u8);
        ReadOnlySpan<byte> requestLine = end < 0 ? text : text[..end];
        ReadOnlySpan<byte> rest = end < 0 ? default : text[(end + 2)..];
        if (!TryParseRequestLine(requestLine, out string method, out string path, out string query, out statusCode, out reason))
        {
            return false;
        }

        var headers = new List<KeyValuePair<string, string>>();
        int hosts = 0;
        while (!rest.IsEmpty)
        {
            end = rest.IndexOf("\r\n"u8);
            ReadOnlySpan<byte> line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? default : rest[(end + 2)..];
            if (headers.Count == MaxHeaders)
            {
                statusCode = 431;
                reason = $"The request has more than {MaxHeaders} headers.";
                return false;
            }

            if (!TryParseHeader(line, out string name, out string value, out reason))
            {
                statusCode = 400;
                return false;
            }

            hosts += string.Equals(name, "Host", StringComparison.OrdinalIgnoreCase) ? 1 : 0;
            headers.Add(new(name, value));
        }

        if (hosts != 1)
        {
            statusCode = 400;
            reason = hosts == 0 ? "The request has no Host header (HTTP/1.1 requires one)." : "The request has more than one Host header.";
            return false;
        }

        head = new Http1RequestHead(method, path, query, headers);
        return true;
    }

    private static bool TryParseRequestLine(ReadOnlySpan<byte> line, out string method, out string path, out string query, out int statusCode, out string reason)
    {
        method = path = query = string.Empty;
        statusCode = 400;
        int first = line.IndexOf((byte)' ');
        int last = line.LastIndexOf((byte)' ');
        if (first <= 0 || last == first || !IsToken(line[..first]))
        {
            reason = "The request line is not METHOD SP target SP HTTP/1.1.";
            return false;
        }

        ReadOnlySpan<byte> version = line[(last + 1)..];
        if (!version.SequenceEqual("HTTP/1.1"u8))
        {
            statusCode = version.StartsWith("HTTP/"u8) ? 505 : 400;
            reason = statusCode == 505 ? "Only HTTP/1.1 is served on this listener." : "The request line is not METHOD SP target SP HTTP/1.1.";
            return false;
        }

        ReadOnlySpan<byte> target = line[(first + 1)..last];
        if (target.IsEmpty || target[0] != (byte)'/' || !IsVisible(target))
        {
            reason = "The request target must be a path starting with '/', in visible ASCII.";
            return false;
        }

        int mark = target.IndexOf((byte)'?');
        if (target.IndexOf((byte)'#') >= 0)
        {
            reason = "The request target must not carry a fragment.";
            return false;
        }

        method = Encoding.ASCII.GetString(line[..first]);
        path = Encoding.ASCII.GetString(mark < 0 ? target : target[..mark]);
        query = mark < 0 ? string.Empty : Encoding.ASCII.GetString(target[mark..]);
        reason = string.Empty;
        return true;
    }

    private static bool TryParseHeader(ReadOnlySpan<byte> line, out string name, out string value, out string reason)
    {
        name = value = string.Empty;
        int colon = line.IndexOf((byte)':');
        if (line.IsEmpty || line[0] is (byte)' ' or (byte)'\t')
        {
            reason = "A header line starts with whitespace (obsolete line folding is not accepted).";
            return false;
        }

        if (colon <= 0 || !IsToken(line[..colon]))
        {
            reason = "A header line is not name \":\" value, with a token for its name.";
            return false;
        }

        ReadOnlySpan<byte> raw = line[(colon + 1)..].Trim(" \t"u8);
        foreach (byte b in raw)
        {
            if (b is < 0x20 and not (byte)'\t' or > 0x7E)
            {
                reason = "A header value holds a control byte or a byte above 0x7E.";
                return false;
            }
        }

        name = Encoding.ASCII.GetString(line[..colon]);
        value = Encoding.ASCII.GetString(raw);
        reason = string.Empty;
        return true;
    }

    /// <summary>RFC 9110 token: visible ASCII but the delimiters.</summary>
    private static bool IsToken(ReadOnlySpan<byte> text)
    {
        foreach (byte b in text)
        {
            if (b is <= 0x20 or >= 0x7F || "\"(),/:;<=>?@[\\]{}"u8.Contains(b))
            {
                return false;
            }
        }

        return !text.IsEmpty;
    }

    private static bool IsVisible(ReadOnlySpan<byte> text)
    {
        foreach (byte b in text)
        {
            if (b is <= 0x20 or >= 0x7F)
            {
                return false;
            }
        }

        return true;
    }

    private static bool HasBareLf(ReadOnlySpan<byte> text)
    {
        for (int i = text.IndexOf((byte)'\n'); i >= 0; i = text.IndexOf((byte)'\n'))
        {
            if (i == 0 || text[i - 1] != (byte)'\r')
            {
                return true;
            }

            text = text[(i + 1)..];
        }

        return false;
    }

    private static Status Fail(int status, string text, out int statusCode, out string reason)
    {
        statusCode = status;
        reason = text;
        return Status.Invalid;
    }
}
