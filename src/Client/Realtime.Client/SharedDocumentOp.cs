using System.Text.Json.Nodes;

namespace Realtime.Client;

/// <summary>An op applied to a shared document, as <see cref="SharedDocumentEvents.BeforeOp"/> and <see cref="SharedDocumentEvents.Op"/> tell it.</summary>
public sealed class SharedDocumentOp
{
    internal SharedDocumentOp(JsonNode op, bool isLocal)
    {
        Op = op;
        IsLocal = isLocal;
    }

    /// <summary>The op (the handler's own copy).</summary>
    public JsonNode Op { get; }

    /// <summary>Whether it was submitted by this document (the original's <c>source</c> true); <see langword="false"/> for a remote op and
    /// for the inverse that rolls back a refused local op.</summary>
    public bool IsLocal { get; }
}
