using System.Buffers;
using System.Text;
using System.Text.Json;
using CsCheck;
using Realtime.Protocol;

namespace Realtime.Shared.Tests;

/// <summary>
/// Property-based tests of the decoder: random and mutated byte sequences, as text and as binary frames. Whatever
/// arrives, decoding either succeeds or raises <see cref="ProtocolException"/>, and it never allocates more than a
/// small constant beyond one copy of the frame (so never more than the frame limit the reader already enforced).
/// </summary>
public class DecoderPropertyTests
{
    private const int Iterations = 20_000;

    /// <summary>Beyond one copy of the frame: the decoded strings' headers, a JSON reader's state, and a thrown exception with its stack trace.</summary>
    private const int AllocationSlack = 8 * 1024;

    private static readonly Gen<string> JsonToken = Gen.OneOf<string>(
        "{", "}", "[", "]", ":", ",", " ", "\"t\"", "\"msg\"", "\"hello\"", "\"pong\"", "\"ping\"", "\"welcome\"", "\"type\"", "\"data\"",
        "\"auth\"", "\"id\"", "1", "-0.5e3", "null", "true", "\"\\u00e9\"", "\"\\ud800\"", "\"é\"", "\"\\\"\"", "\"x\"");

    private static readonly Gen<byte[]> ValidTextFrame =
        Gen.Select(Gen.String[0, 40], Gen.Int[-1000, 1000], Gen.Bool, (type, number, nested) =>
        {
            using JsonDocument data = JsonDocument.Parse(nested ? $"{{\"n\":{number},\"a\":[1,\"two\",null]}}" : number.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var output = new ArrayBufferWriter<byte>();
            FrameWriter.WriteTextMessage(output, type.Length == 0 ? null : type, data.RootElement);
            return output.WrittenSpan.ToArray();
        });

    private static readonly Gen<byte[]> ValidBinaryFrame =
        Gen.Select(Gen.String[0, 40], Gen.Byte.Array[0, 200], (type, payload) =>
        {
            var output = new ArrayBufferWriter<byte>();
            FrameWriter.WriteBinaryMessage(output, type.Length == 0 ? null : type, payload);
            return output.WrittenSpan.ToArray();
        });

    [Fact]
    public void Random_bytes_as_a_text_frame_decode_or_raise_ProtocolException_only()
        => Gen.Byte.Array[0, 300].Sample(bytes => DecodeOrProtocolError(bytes, binary: false), iter: Iterations);

    [Fact]
    public void Random_bytes_as_a_binary_frame_decode_or_raise_ProtocolException_only()
        => Gen.Byte.Array[0, 300].Sample(bytes => DecodeOrProtocolError(bytes, binary: true), iter: Iterations);

    [Fact]
    public void Random_sequences_of_JSON_tokens_decode_or_raise_ProtocolException_only()
        => JsonToken.Array[0, 40].Select(tokens => Encoding.UTF8.GetBytes(string.Concat(tokens)))
            .Sample(bytes => DecodeOrProtocolError(bytes, binary: false), iter: Iterations);

    [Fact]
    public void Mutated_valid_text_frames_decode_or_raise_ProtocolException_only()
        => Mutated(ValidTextFrame).Sample(bytes => DecodeOrProtocolError(bytes, binary: false), iter: Iterations);

    [Fact]
    public void Mutated_valid_binary_frames_decode_or_raise_ProtocolException_only()
        => Mutated(ValidBinaryFrame).Sample(bytes => DecodeOrProtocolError(bytes, binary: true), iter: Iterations);

    [Fact]
    public void Large_random_frames_stay_within_the_allocation_bound()
        => Gen.Byte.Array[0, 70_000].Sample(bytes =>
        {
            DecodeOrProtocolError(bytes, binary: true);
            DecodeOrProtocolError(bytes, binary: false);
        }, iter: 200);

    [Fact]
    public void Valid_text_frames_survive_the_round_trip()
        => Gen.Select(Gen.String[1, 40], Gen.Int).Sample((type, number) =>
        {
            using JsonDocument data = JsonDocument.Parse($"{{\"n\":{number}}}");
            var output = new ArrayBufferWriter<byte>();
            FrameWriter.WriteTextMessage(output, type, data.RootElement);
            Frame frame = FrameReader.ReadText(output.WrittenSpan);
            Assert.Equal(FrameKind.Message, frame.Kind);
            Assert.Equal(type, frame.Message.Type);
            Assert.Equal(number, frame.Message.Data.GetProperty("n").GetInt32());
        }, iter: 2_000);

    /// <summary>A valid frame with one mutation: a byte flipped, inserted or deleted, or the frame cut short.</summary>
    private static Gen<byte[]> Mutated(Gen<byte[]> frames)
        => Gen.Select(frames, Gen.Int[0, 3], Gen.Int.Positive, Gen.Byte, (frame, kind, at, value) =>
        {
            if (frame.Length == 0)
            {
                return frame;
            }

            int i = at % frame.Length;
            return kind switch
            {
                0 => [.. frame[..i], (byte)(frame[i] ^ (value | 1)), .. frame[(i + 1)..]],
                1 => [.. frame[..i], value, .. frame[i..]],
                2 => [.. frame[..i], .. frame[(i + 1)..]],
                _ => frame[..i],
            };
        });

    private static void DecodeOrProtocolError(byte[] bytes, bool binary)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            Frame frame = binary ? FrameReader.ReadBinary(bytes) : FrameReader.ReadText(bytes);
            Assert.True(Enum.IsDefined(frame.Kind));
        }
        catch (ProtocolException ex)
        {
            Assert.True(ex.CloseCode is CloseCodes.InvalidPayload or CloseCodes.ProtocolError, $"close code {ex.CloseCode}");
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated <= bytes.Length + AllocationSlack, $"decoding {bytes.Length} bytes allocated {allocated} bytes");
    }
}
