using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Realtime.Server.Internal.Documents;

/// <summary>The <c>ot-doc</c> messages the server sends (docs/protocol.md, "ot-doc"), written straight to UTF-8 once each.</summary>
internal static class DocumentWire
{
    public const string MessageType = "ot-doc";

    public const int Fetch = 0;
    public const int FetchOps = 1;
    public const int History = 2;
    public const int Subscribe = 3;
    public const int Unsubscribe = 4;
    public const int Op = 5;

    /// <summary>Relaxed escaping: non-ASCII text goes out as UTF-8, as JavaScript's <c>JSON.stringify</c> writes it.</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The most arrays and objects a snapshot may nest (docs/documents.md, Limits). Readers stop at 64 (the C# client's frame
    /// reader, <c>JsonNode.Parse</c>'s default); the deepest envelope around a
    /// snapshot's content is 4 levels (a Socket.IO array or a v1 frame, the ot-doc message, <c>data</c> or an op's array and component),
    /// so 48 leaves room to spare on both wires.</summary>
    public const int MaxSnapshotDepth = 48;

    /// <summary>The depth stored snapshots are parsed with: the limit of what is written, plus room for documents written before it.</summary>
    public const int StoredReadMaxDepth = 64;

    private static readonly JsonWriterOptions SnapshotWriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        MaxDepth = MaxSnapshotDepth,
    };

    /// <summary>An op message, for broadcasts, ops since a version and transformed-against ops:
    /// <c>{"a":5,"v":…,"src":…,"seq":…,"op"|"create"|"del"|"restore":…}</c>.</summary>
    public static Message OpMessage(DocumentOperation op) => Write(op, static (writer, op) =>
    {
        writer.WriteNumber("a"u8, Op);
        writer.WriteNumber("v"u8, op.Version);
        if (op.Source is not null)
        {
            writer.WriteString("src"u8, op.Source);
            writer.WriteNumber("seq"u8, op.Sequence);
        }

        writer.WritePropertyName(KindKey(op.Kind));
        writer.WriteRawValue(op.Payload.Span, skipInputValidation: true);
    });

    /// <summary>The ack of a submit: <c>{"src":…,"seq":…,"v":…,"a":5}</c>.</summary>
    public static Message Ack(string? source, long sequence, long version) => Write((source, sequence, version), static (writer, s) =>
    {
        if (s.source is not null)
        {
            writer.WriteString("src"u8, s.source);
            writer.WriteNumber("seq"u8, s.sequence);
        }

        writer.WriteNumber("v"u8, s.version);
        writer.WriteNumber("a"u8, Op);
    });

    /// <summary>A reply with nothing but its action: <c>{"a":…}</c> (fetch and subscribe after the ops since a version).</summary>
    public static Message Empty(int action) => Write(action, static (writer, a) => writer.WriteNumber("a"u8, a));

    /// <summary>A snapshot reply: <c>{"data":{id, v, type, data},"a":…}</c>, or with <paramref name="historyId"/> the history reply
    /// <c>{"id":…,"data":…,"a":2}</c>.</summary>
    public static Message SnapshotReply(int action, JsonElement? historyId, string documentId, long version, string? type, ReadOnlyMemory<byte> data)
        => Write((action, historyId, documentId, version, type, data), static (writer, s) =>
        {
            if (s.historyId is { } id)
            {
                writer.WritePropertyName("id"u8);
                id.WriteTo(writer);
            }

            writer.WritePropertyName("data"u8);
            WriteSnapshot(writer, s.documentId, s.version, s.type, s.data.Span);
            writer.WriteNumber("a"u8, s.action);
        });

    /// <summary>A snapshot object: <c>{"id":…,"v":…}</c>, with <c>type</c> and <c>data</c> when the document exists.</summary>
    public static void WriteSnapshot(Utf8JsonWriter writer, string documentId, long version, string? type, ReadOnlySpan<byte> data)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, documentId);
        writer.WriteNumber("v"u8, version);
        if (type is not null)
        {
            writer.WriteString("type"u8, type);
            writer.WritePropertyName("data"u8);
            writer.WriteRawValue(data.IsEmpty ? "null"u8 : data, skipInputValidation: true);
        }

        writer.WriteEndObject();
    }

    /// <summary>An error reply: the request as it came, with <c>error: {code, message}</c> added (a previous <c>error</c> key dropped).</summary>
    public static Message Error(JsonElement request, int code, string message) => Write((request, code, message), static (writer, s) =>
    {
        foreach (JsonProperty property in s.request.EnumerateObject())
        {
            if (property.Name != "error")
            {
                property.WriteTo(writer);
            }
        }

        writer.WriteStartObject("error"u8);
        writer.WriteNumber("code"u8, s.code);
        writer.WriteString("message"u8, s.message);
        writer.WriteEndObject();
    });

    /// <summary>A node as a message's data (a reply a middleware changed).</summary>
    public static Message FromNode(JsonNode node) => new(MessageType, new LazyJson(Serialize(node)));

    /// <summary>A node's JSON, with the wire's escaping.</summary>
    public static byte[] Serialize(JsonNode? node)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            if (node is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                node.WriteTo(writer);
            }
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A snapshot's JSON, with the wire's escaping, refused (1000) when it nests deeper than <see cref="MaxSnapshotDepth"/>.</summary>
    /// <exception cref="DocumentException">Deeper than the limit.</exception>
    public static byte[] SerializeSnapshot(JsonNode? node)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using var writer = new Utf8JsonWriter(buffer, SnapshotWriterOptions);
        try
        {
            if (node is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                node.WriteTo(writer);
            }
        }
        catch (InvalidOperationException) when (writer.CurrentDepth >= MaxSnapshotDepth)
        {
            throw new DocumentException(DocumentErrorCodes.Unknown,
                $"Snapshot too deep: more than {MaxSnapshotDepth} levels of nested arrays and objects (the limit of documents)");
        }

        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    public static ReadOnlySpan<byte> KindKey(DocumentOperationKind kind) => kind switch
    {
        DocumentOperationKind.Create => "create"u8,
        DocumentOperationKind.Delete => "del"u8,
        DocumentOperationKind.Restore => "restore"u8,
        _ => "op"u8,
    };

    private static Message Write<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            write(writer, state);
            writer.WriteEndObject();
        }

        return new Message(MessageType, new LazyJson(buffer.WrittenMemory));
    }
}
