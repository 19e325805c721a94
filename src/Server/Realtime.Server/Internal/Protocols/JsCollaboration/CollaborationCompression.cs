using System.Buffers;
using System.Buffers.Text;
using System.IO.Compression;

namespace Realtime.Server.Internal.Protocols.JsCollaboration;

/// <summary>
/// The original framework's compression of a message's data: JSON of at least <see cref="Threshold"/> UTF-8 bytes is gzipped, and
/// the gzip form (as base64 text) is used when the gzip has fewer bytes than the JSON, whatever the base64 text then costs: the
/// original compares those two sizes, and the compressed flag must be the one it would send. A receiver reverses it, never
/// inflating past its message size limit, so a small gzip bomb is refused rather than expanded.
/// </summary>
internal static class CollaborationCompression
{
    /// <summary>Data whose JSON is shorter than this is always sent as it is.</summary>
    public const int Threshold = 128;

    /// <summary>
    /// The gzip settings that match the original's. It gzips with zlib at its default level 6 (Node's <c>zlib.gzipSync</c>). .NET's
    /// zlib-ng runs another matcher at level 6 (its "medium" strategy); its level 7 runs zlib's lazy matcher, with a longer lazy
    /// threshold and chain. The choice is close only for data whose gzip comes near its own size, which has few matches to find: on
    /// 24,000 such payloads, level 7 gave gzip of exactly the size Node's zlib gives, where level 6 differed in 45 and changed the
    /// flag of 3 (JsCollaborationCodecTests keeps recorded cases). On data that compresses well the sizes differ a little, which
    /// changes no flag.
    /// </summary>
    private static readonly ZLibCompressionOptions OriginalLevel = new() { CompressionLevel = 7 };

    /// <summary>The base64 of the gzip of <paramref name="json"/>, when the rule says to compress it.</summary>
    /// <returns><see langword="false"/> (send the JSON as it is) when it is shorter than the threshold, or its gzip has as many
    /// bytes as it or more.</returns>
    public static bool TryCompress(ReadOnlySpan<byte> json, out byte[] base64)
    {
        base64 = [];
        if (json.Length < Threshold)
        {
            return false;
        }

        var gzipped = new ArrayBufferWriter<byte>(json.Length / 2);
        using (var gzip = new GZipStream(new BufferWriterStream(gzipped), OriginalLevel))
        {
            gzip.Write(json);
        }

        // The gzip's bytes against the JSON's, as the original compares them: base64 may still make the text longer than the JSON.
        if (gzipped.WrittenCount >= json.Length)
        {
            return false;
        }

        base64 = new byte[Base64.GetMaxEncodedToUtf8Length(gzipped.WrittenCount)]; // padded base64: the maximum is the exact length
        Base64.EncodeToUtf8(gzipped.WrittenSpan, base64, out _, out _);
        return true;
    }

    /// <summary>Decodes base64 text of gzipped JSON into at most <paramref name="maxBytes"/> bytes.</summary>
    /// <returns><see langword="false"/> with the reason when the text is not base64 or gzip, or inflates past the limit.</returns>
    public static bool TryDecompress(ReadOnlySpan<byte> base64, int maxBytes, out byte[] json, out string? problem)
    {
        json = [];
        byte[] gzipped = new byte[Base64.GetMaxDecodedFromUtf8Length(base64.Length)];
        if (Base64.DecodeFromUtf8(base64, gzipped, out _, out int count) != OperationStatus.Done)
        {
            problem = "Compressed data that is not base64.";
            return false;
        }

        try
        {
            using var gzip = new GZipStream(new MemoryStream(gzipped, 0, count, writable: false), CompressionMode.Decompress);
            byte[] buffer = new byte[Math.Min(maxBytes + 1, Math.Max(256, count * 4))];
            int total = 0;
            while (true)
            {
                if (total == buffer.Length)
                {
                    if (buffer.Length > maxBytes)
                    {
                        problem = $"Compressed data that inflates past the limit of {maxBytes} bytes.";
                        return false;
                    }

                    Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, (long)maxBytes + 1));
                }

                int read = gzip.Read(buffer, total, buffer.Length - total);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }

            if (total > maxBytes)
            {
                problem = $"Compressed data that inflates past the limit of {maxBytes} bytes.";
                return false;
            }

            json = buffer.AsSpan(0, total).ToArray();
            problem = null;
            return true;
        }
        catch (InvalidDataException)
        {
            problem = "Compressed data that is not gzip.";
            return false;
        }
    }

    /// <summary>A write-only stream into a buffer writer, for <see cref="GZipStream"/>'s output.</summary>
    private sealed class BufferWriterStream(IBufferWriter<byte> output) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer) => output.Write(buffer);

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
