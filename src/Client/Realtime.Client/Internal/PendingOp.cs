using System.Text.Json.Nodes;

namespace Realtime.Client.Internal;

/// <summary>The four kinds of document op (js-collaboration-features.md §3.5).</summary>
internal enum DocumentOpKind
{
    /// <summary>An OT op of the document's type.</summary>
    Op,

    /// <summary>Creates the document.</summary>
    Create,

    /// <summary>Erases the document.</summary>
    Delete,

    /// <summary>Replaces the content with an older version's.</summary>
    Restore,

    /// <summary>Nothing (a remote op that a local delete or restore dominates).</summary>
    None,
}

/// <summary>
/// An op of a shared document: a local one waiting to be sent or acknowledged (with its identity and the calls waiting for it),
/// or a remote one being transformed and applied. Not thread-safe: guarded by the document engine's lock.
/// </summary>
internal sealed class PendingOp
{
    private PendingOp(DocumentOpKind kind) => Kind = kind;

    public DocumentOpKind Kind { get; private set; }

    /// <summary>The OT op (<see cref="DocumentOpKind.Op"/>); replaced by transforms and compositions, never changed in place.</summary>
    public JsonNode? Op { get; set; }

    /// <summary>A create's type name or URI.</summary>
    public string? TypeName { get; private init; }

    /// <summary>A create's or a restore's data.</summary>
    public JsonNode? Data { get; private init; }

    /// <summary>A restore's target version.</summary>
    public long RestoreVersion { get; private init; }

    /// <summary>
    /// The op's <c>src</c>: the connection id it was first sent on. It is always sent, not only on resends as the original does,
    /// because this client's connection gets a new id on each reconnection: an op first written to the send buffer just as the
    /// connection dropped reaches the server through the next connection, and with the server filling in <c>src</c> it would
    /// carry a different one than its resend, which the server would then apply a second time.
    /// </summary>
    public string? Src { get; set; }

    /// <summary>The op's <c>seq</c>, from 1 when first sent (0 before); kept by resends.</summary>
    public long Seq { get; set; }

    /// <summary>Whether it was ever sent: such an op is never composed with later ones, since the server may have it already.</summary>
    public bool Sent => Seq != 0;

    /// <summary>The calls waiting for the server's answer (several after compositions).</summary>
    public List<TaskCompletionSource> Waiters { get; } = [];

    public static PendingOp ForOp(JsonNode op) => new(DocumentOpKind.Op) { Op = op };

    public static PendingOp ForCreate(string typeName, JsonNode? data) => new(DocumentOpKind.Create) { TypeName = typeName, Data = data };

    public static PendingOp ForDelete() => new(DocumentOpKind.Delete);

    public static PendingOp ForRestore(long version, JsonNode? data) => new(DocumentOpKind.Restore) { RestoreVersion = version, Data = data };

    /// <summary>Makes this (remote) op a no-op.</summary>
    public void Cancel()
    {
        Kind = DocumentOpKind.None;
        Op = null;
    }

    /// <summary>Whether <paramref name="src"/> and <paramref name="seq"/> name this op, once sent.</summary>
    public bool Is(string? src, long seq) => Sent && seq == Seq && string.Equals(src, Src, StringComparison.Ordinal);
}
