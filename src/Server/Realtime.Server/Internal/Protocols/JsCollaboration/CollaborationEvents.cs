using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Realtime.Server.Internal.Protocols.JsCollaboration;

/// <summary>What an EVENT packet's payload holds, as far as the original framework's events go.</summary>
internal enum CollaborationEventKind
{
    /// <summary>The <c>m</c> event: <c>["m",[type, data, compressed]]</c>.</summary>
    Message,

    /// <summary>A well-formed event with another name (the client's licence events, for example): ignored.</summary>
    Other,
}

/// <summary>
/// The original framework's events inside Socket.IO EVENT packets: the application message <c>m</c> with its one argument
/// <c>[type, data, compressed]</c> both ways, and <c>message_error</c> from the server. Data is carried as the exact JSON text
/// it arrived as (after decompression), so relaying a message never parses it.
/// </summary>
internal static class CollaborationEvents
{
    private static readonly JsonReaderOptions Strict = new() { MaxDepth = 64 };

    /// <summary>Only what JSON requires is escaped: the packets are WebSocket text, never HTML, and base64's '+' stays one byte.</summary>
    private static readonly JsonWriterOptions Minimal = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Reads an EVENT payload (<c>["name", …]</c>).</summary>
    /// <param name="payload">The packet's JSON payload.</param>
    /// <param name="maxDataBytes">The largest data accepted after decompression (the server's message size limit).</param>
    /// <param name="kind">The event, when the payload is well formed.</param>
    /// <param name="type">The message's type (<see langword="null"/> for JSON <c>null</c>).</param>
    /// <param name="data">The message's data as JSON text, decompressed.</param>
    /// <param name="problem">Why the payload was refused.</param>
    public static bool TryRead(ReadOnlySpan<byte> payload, int maxDataBytes, out CollaborationEventKind kind, out string? type, out ReadOnlyMemory<byte> data, out string? problem)
    {
        kind = CollaborationEventKind.Other;
        type = null;
        data = default;
        try
        {
            var reader = new Utf8JsonReader(payload, Strict);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray || !reader.Read() || reader.TokenType != JsonTokenType.String)
            {
                problem = "An event must be an array that starts with its name.";
                return false;
            }

            if (!reader.ValueTextEquals("m"u8))
            {
                reader.Skip();
                while (reader.Read())
                {
                    reader.Skip(); // validates the rest of the payload
                }

                problem = null;
                return true;
            }

            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray || !reader.Read())
            {
                problem = "The m event's argument must be [type, data, compressed].";
                return false;
            }

            switch (reader.TokenType)
            {
                case JsonTokenType.String:
                    type = reader.GetString();
                    break;
                case JsonTokenType.Null:
                    break;
                default:
                    problem = "A message's type must be a string or null.";
                    return false;
            }

            if (!reader.Read())
            {
                problem = "The m event's argument must be [type, data, compressed].";
                return false;
            }

            int start = (int)reader.TokenStartIndex;
            bool isString = reader.TokenType == JsonTokenType.String;
            reader.Skip();
            int end = (int)reader.BytesConsumed;
            if (!reader.Read() || reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
            {
                problem = "A message's compressed flag must be true or false.";
                return false;
            }

            bool compressed = reader.TokenType == JsonTokenType.True;
            if (!reader.Read() || reader.TokenType != JsonTokenType.EndArray || !reader.Read() || reader.TokenType != JsonTokenType.EndArray || reader.Read())
            {
                problem = "The m event carries exactly one argument, [type, data, compressed].";
                return false;
            }

            if (!compressed)
            {
                if (end - start > maxDataBytes)
                {
                    problem = $"A message's data exceeded the limit of {maxDataBytes} bytes.";
                    return false;
                }

                data = payload[start..end].ToArray();
                kind = CollaborationEventKind.Message;
                problem = null;
                return true;
            }

            if (!isString)
            {
                problem = "Compressed data must be a base64 string.";
                return false;
            }

            // Only compressed data is read as a string (base64 needs no escapes; an escaped one is unescaped first).
            var text = new Utf8JsonReader(payload[start..end]);
            text.Read();
            ReadOnlySpan<byte> base64 = text.ValueIsEscaped ? Encoding.UTF8.GetBytes(text.GetString()!) : text.ValueSpan;
            if (!CollaborationCompression.TryDecompress(base64, maxDataBytes, out byte[] json, out problem))
            {
                return false;
            }

            var inner = new Utf8JsonReader(json, Strict);
            if (!inner.Read())
            {
                problem = "Compressed data that is not JSON.";
                return false;
            }

            inner.Skip();
            if (inner.Read())
            {
                problem = "Compressed data that is more than one JSON value.";
                return false;
            }

            data = json;
            kind = CollaborationEventKind.Message;
            return true;
        }
        catch (JsonException)
        {
            problem = "An event payload that is not valid JSON.";
            return false;
        }
        catch (InvalidOperationException)
        {
            problem = "A string that is not valid UTF-16 (an escaped lone surrogate)."; // what GetString refuses
            return false;
        }
    }

    /// <summary>The Engine.IO message packet of an <c>m</c> event: <c>42["m",[type,data,compressed]]</c>, compressed by the rule.</summary>
    /// <param name="type">The message's type.</param>
    /// <param name="dataJson">The data as JSON text.</param>
    public static byte[] EncodeMessage(string? type, ReadOnlySpan<byte> dataJson)
    {
        bool compressed = CollaborationCompression.TryCompress(dataJson, out byte[] base64);
        var output = new ArrayBufferWriter<byte>(dataJson.Length + 32);
        output.Write("42"u8);
        using (var writer = new Utf8JsonWriter(output, Minimal))
        {
            writer.WriteStartArray();
            writer.WriteStringValue("m"u8);
            writer.WriteStartArray();
            if (type is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                writer.WriteStringValue(type);
            }

            if (compressed)
            {
                writer.WriteStringValue(base64);
            }
            else
            {
                writer.WriteRawValue(dataJson, skipInputValidation: true);
            }

            writer.WriteBooleanValue(compressed);
            writer.WriteEndArray();
            writer.WriteEndArray();
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>The Engine.IO message packet of a <c>message_error</c> event with its text.</summary>
    public static byte[] EncodeMessageError(string message)
    {
        var output = new ArrayBufferWriter<byte>(message.Length + 32);
        output.Write("42"u8);
        using (var writer = new Utf8JsonWriter(output, Minimal))
        {
            writer.WriteStartArray();
            writer.WriteStringValue("message_error"u8);
            writer.WriteStringValue(message);
            writer.WriteEndArray();
        }

        return output.WrittenSpan.ToArray();
    }
}
