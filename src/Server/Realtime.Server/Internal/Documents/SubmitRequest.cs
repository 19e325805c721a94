using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Realtime.Server.Internal.Documents;

/// <summary>A submit (<c>a:5</c>) that passed the shape checks of step 1 (docs/documents.md, "The submit pipeline").</summary>
internal sealed class SubmitRequest
{
    /// <summary>2^53 − 1: JavaScript's largest safe integer; a <c>seq</c> at or beyond it is refused (14).</summary>
    private const long MaxSafeInteger = 9007199254740991;

    private SubmitRequest(JsonElement request, DocumentOperationKind kind)
    {
        Request = request;
        Kind = kind;
    }

    /// <summary>The request as received (echoed in an error reply, seen by middleware).</summary>
    public JsonElement Request { get; }

    public DocumentOperationKind Kind { get; }

    /// <summary>The version the client wrote it against; <see langword="null"/> when it sent none (the current one is taken).</summary>
    public long? Version { get; private set; }

    /// <summary>The submitter's id: the <c>src</c> sent, or the connection's id; <see langword="null"/> for a server-side submit.</summary>
    public string? Source { get; private set; }

    public long Sequence { get; private set; }

    /// <summary>The value as sent: the op, the create's <c>data</c> or the restore's <c>data</c> (empty when absent).</summary>
    public ReadOnlyMemory<byte> Payload { get; private set; }

    /// <summary>The bytes the <see cref="DocumentOptions.MaxOpBytes"/> limit counts: the whole op, create or restore value.</summary>
    public int Size { get; private set; }

    /// <summary>A create's type.</summary>
    public IOtType? CreateType { get; private set; }

    /// <summary>A restore's target version.</summary>
    public long RestoreVersion { get; private set; }

    /// <summary>Checks a submit's shape (step 1).</summary>
    /// <param name="request">The message.</param>
    /// <param name="connectionId">The sender's id (the <c>src</c> when it sent none); <see langword="null"/> for a server-side submit.</param>
    /// <param name="types">The registered types.</param>
    /// <returns>The request.</returns>
    /// <exception cref="DocumentException">The shape is wrong, with the protocol's code and message.</exception>
    public static SubmitRequest Parse(JsonElement request, string? connectionId, IReadOnlyDictionary<string, IOtType> types)
    {
        long? version = null;
        if (request.TryGetProperty("v", out JsonElement v) && v.ValueKind != JsonValueKind.Null)
        {
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long value) || value < 0)
            {
                throw new DocumentException(DocumentErrorCodes.InvalidMessage, "Invalid version");
            }

            version = value;
        }

        SubmitRequest parsed;
        if (request.TryGetProperty("op", out JsonElement op))
        {
            ReadOnlyMemory<byte> raw = Raw(op);
            parsed = new SubmitRequest(request, DocumentOperationKind.Op) { Payload = raw, Size = raw.Length };
        }
        else if (request.TryGetProperty("create", out JsonElement create))
        {
            if (create.ValueKind != JsonValueKind.Object || !create.TryGetProperty("type", out JsonElement type) || type.ValueKind != JsonValueKind.String)
            {
                throw new DocumentException(DocumentErrorCodes.InvalidOp, "Invalid create message: a create is {type, data} with the type's name or URI");
            }

            if (!types.TryGetValue(type.GetString()!, out IOtType? otType))
            {
                throw new DocumentException(DocumentErrorCodes.UnknownType, "Unknown type");
            }

            parsed = new SubmitRequest(request, DocumentOperationKind.Create)
            {
                CreateType = otType,
                Payload = create.TryGetProperty("data", out JsonElement data) ? Raw(data) : default,
                Size = JsonMarshal.GetRawUtf8Value(create).Length,
            };
        }
        else if (request.TryGetProperty("del", out JsonElement del))
        {
            if (del.ValueKind != JsonValueKind.True)
            {
                throw new DocumentException(DocumentErrorCodes.InvalidOp, "Invalid del message: del must be true");
            }

            parsed = new SubmitRequest(request, DocumentOperationKind.Delete);
        }
        else if (request.TryGetProperty("restore", out JsonElement restore))
        {
            if (restore.ValueKind != JsonValueKind.Object || !restore.TryGetProperty("v", out JsonElement target) || target.ValueKind != JsonValueKind.Number
                || !target.TryGetInt64(out long targetVersion) || targetVersion <= 0)
            {
                throw new DocumentException(DocumentErrorCodes.InvalidRestoreVersion, "Invalid restore message: restore.v must be a version above 0");
            }

            parsed = new SubmitRequest(request, DocumentOperationKind.Restore)
            {
                RestoreVersion = targetVersion,
                Payload = restore.TryGetProperty("data", out JsonElement data) && data.ValueKind != JsonValueKind.Null ? Raw(data) : default,
                Size = JsonMarshal.GetRawUtf8Value(restore).Length,
            };
        }
        else
        {
            throw new DocumentException(DocumentErrorCodes.InvalidMessage, "Invalid op message");
        }

        parsed.Version = version;
        bool hasSource = request.TryGetProperty("src", out JsonElement src) && src.ValueKind != JsonValueKind.Null;
        bool hasSequence = request.TryGetProperty("seq", out JsonElement seq) && seq.ValueKind != JsonValueKind.Null;
        if (connectionId is null && !hasSource && !hasSequence)
        {
            return parsed; // a server-side submit: no src, no seq
        }

        if ((hasSource && src.ValueKind != JsonValueKind.String) || !hasSequence || seq.ValueKind != JsonValueKind.Number)
        {
            throw new DocumentException(DocumentErrorCodes.InvalidOp, "Invalid src or seq: src must be a string and seq a number, seq always");
        }

        if (!seq.TryGetDouble(out double sequence) || sequence >= MaxSafeInteger)
        {
            throw new DocumentException(DocumentErrorCodes.SeqOverflow, "Connection seq has exceeded the max safe integer, maybe from being open for too long");
        }

        if (!seq.TryGetInt64(out long whole) || whole < 0)
        {
            throw new DocumentException(DocumentErrorCodes.InvalidOp, "Invalid src or seq: seq must be a whole number, not negative");
        }

        parsed.Source = hasSource ? src.GetString() : connectionId;
        parsed.Sequence = whole;
        return parsed;
    }

    /// <summary>A request the server itself makes (<see cref="DocumentService"/>): no src, no seq.</summary>
    public static SubmitRequest ServerSide(JsonElement request, IReadOnlyDictionary<string, IOtType> types) => Parse(request, null, types);

    public JsonNode? ParsePayload() => Payload.IsEmpty ? null : JsonNode.Parse(Payload.Span);

    private static ReadOnlyMemory<byte> Raw(JsonElement element) => JsonMarshal.GetRawUtf8Value(element).ToArray();
}
