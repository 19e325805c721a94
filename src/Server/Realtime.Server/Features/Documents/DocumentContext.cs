using System.Text.Json;
using System.Text.Json.Nodes;

namespace Realtime.Server;

/// <summary>What a <see cref="DocumentMiddleware"/> sees of a document request, and how it refuses it.</summary>
/// <remarks>A context lives for one middleware chain; do not keep it. Middleware of one document's submits runs one submit at a time.</remarks>
public sealed class DocumentContext
{
    internal DocumentContext(DocumentAction action, string documentId, ServerConnection? connection, JsonElement request)
    {
        Action = action;
        DocumentId = documentId;
        Connection = connection;
        Request = request;
    }

    /// <summary>The action this middleware runs for.</summary>
    public DocumentAction Action { get; }

    /// <summary>The document's id: the room's id.</summary>
    public string DocumentId { get; }

    /// <summary>The connection that sent the request; <see langword="null"/> for the server-side API (<see cref="DocumentService"/>).</summary>
    public ServerConnection? Connection { get; }

    /// <summary>The <c>ot-doc</c> request as received (an operation not yet transformed; <c>x</c> is the client's extra data).</summary>
    public JsonElement Request { get; }

    /// <summary>The operation as it will be (or was) applied, after its transformation: for <see cref="DocumentAction.Apply"/>,
    /// <see cref="DocumentAction.Commit"/> and <see cref="DocumentAction.AfterWrite"/> of an <c>op</c>, and for
    /// <see cref="DocumentAction.ReadOp"/> (the whole op message); otherwise <see langword="null"/>. Do not change it.</summary>
    public JsonNode? Op { get; internal set; }

    /// <summary>The version the operation is applied at (submit actions from <see cref="DocumentAction.Apply"/> on), or the snapshot's
    /// version (<see cref="DocumentAction.ReadSnapshots"/>); otherwise -1.</summary>
    public long Version { get; internal set; } = -1;

    /// <summary>The snapshot about to go out, as <c>{id, v, type, data}</c> (<see cref="DocumentAction.ReadSnapshots"/> only). Do not change it.</summary>
    public JsonNode? Snapshot { get; internal set; }

    /// <summary>The reply about to go out (<see cref="DocumentAction.Reply"/> only): a middleware may change it or replace it.</summary>
    public JsonObject? Reply { get; set; }

    /// <summary>The error code of a rejection, or <see langword="null"/> while there is none.</summary>
    public int? RejectionCode { get; private set; }

    /// <summary>The message of a rejection, or <see langword="null"/> while there is none.</summary>
    public string? RejectionMessage { get; private set; }

    /// <summary>Refuses the request with the action's usual code: 1000 (the original's plain error), 11 for
    /// <see cref="DocumentAction.ReadSnapshots"/>. Do not call <c>next</c> after it.</summary>
    /// <param name="message">Why, for the client (it reaches the application there).</param>
    public void Reject(string message) => Reject(DefaultCode(Action), message);

    /// <summary>Refuses the request with an error code of the protocol (docs/documents.md, "Errors"), for example 19: the original client
    /// then rolls its operation back silently. Do not call <c>next</c> after it.</summary>
    /// <param name="code">The error code.</param>
    /// <param name="message">Why, for the client.</param>
    public void Reject(int code, string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        RejectionCode = code;
        RejectionMessage = message;
    }

    internal static int DefaultCode(DocumentAction action) => action == DocumentAction.ReadSnapshots ? DocumentErrorCodes.SnapshotReadRefused : DocumentErrorCodes.Unknown;
}
