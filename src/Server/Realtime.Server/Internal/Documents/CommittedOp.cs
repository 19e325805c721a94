using System.Text.Json.Nodes;

namespace Realtime.Server.Internal.Documents;

/// <summary>
/// A committed operation as the submit pipeline keeps it for the submits after it: the log entry, its op parsed once for every transform
/// against it, and its <c>ot-doc</c> message serialized once for the broadcast and for every submitter it is sent to as a
/// transformed-against op. Filled and read under the document's gate.
/// </summary>
/// <param name="operation">The log entry.</param>
/// <param name="parsed">Its op when the caller has it parsed already (not changed afterwards: transforms never change their inputs).</param>
internal sealed class CommittedOp(DocumentOperation operation, JsonNode? parsed = null)
{
    private Message? _wire;

    public DocumentOperation Operation { get; } = operation;

    /// <summary>The op of an <see cref="DocumentOperationKind.Op"/> entry, parsed on first use.</summary>
    public JsonNode Parsed => parsed ??= JsonNode.Parse(Operation.Payload.Span)!;

    /// <summary>The <c>ot-doc</c> message of the entry, serialized on first use.</summary>
    public Message Wire => _wire ??= DocumentWire.OpMessage(Operation);

    /// <summary>Wraps log entries read from the store.</summary>
    public static CommittedOp[] Wrap(IReadOnlyList<DocumentOperation> operations)
    {
        var wrapped = new CommittedOp[operations.Count];
        for (int i = 0; i < wrapped.Length; i++)
        {
            wrapped[i] = new CommittedOp(operations[i]);
        }

        return wrapped;
    }
}
