namespace Realtime.Client;

/// <summary>
/// The events of a <see cref="SharedDocument"/>. Handlers run on the connection's dispatcher, one at a time, in the order the
/// document changed; the document may have changed further by the time a handler runs. Events are never replayed to late handlers.
/// </summary>
public static class SharedDocumentEvents
{
    /// <summary><c>"before op"</c>: an op is about to be applied; raised right before <see cref="Op"/> for the same op.</summary>
    /// <example><code>doc.On(SharedDocumentEvents.BeforeOp, e => Console.WriteLine($"{(e.IsLocal ? "mine" : "theirs")}: {e.Op}"));</code></example>
    public static readonly SharedDocumentEvent<SharedDocumentOp> BeforeOp = new("before op");

    /// <summary><c>"op"</c>: an op was applied: a local one (at submit), a remote one, or the inverse rolling back a refused local op (not local).</summary>
    /// <example><code>doc.On(SharedDocumentEvents.Op, e => Render(doc.Data));</code></example>
    public static readonly SharedDocumentEvent<SharedDocumentOp> Op = new("op");

    /// <summary><c>"create"</c>: the document was created, with whether locally (<see langword="true"/>) or remotely.</summary>
    /// <example><code>doc.On(SharedDocumentEvents.Create, local => Render(doc.Data));</code></example>
    public static readonly SharedDocumentEvent<bool> Create = new("create");

    /// <summary><c>"del"</c>: the document was deleted, with whether locally (<see langword="true"/>) or remotely.</summary>
    /// <example><code>doc.On(SharedDocumentEvents.Delete, local => Clear());</code></example>
    public static readonly SharedDocumentEvent<bool> Delete = new("del");

    /// <summary><c>"load"</c>: a snapshot from the server was loaded (a fetch or subscribe of a document not loaded yet), with its version.</summary>
    /// <example><code>doc.On(SharedDocumentEvents.Load, version => Render(doc.Data));</code></example>
    public static readonly SharedDocumentEvent<long> Load = new("load");

    /// <summary><c>"restore"</c>: the document's content was replaced by an older version's, with whether locally (<see langword="true"/>) or remotely.</summary>
    /// <example><code>doc.On(SharedDocumentEvents.Restore, local => Render(doc.Data));</code></example>
    public static readonly SharedDocumentEvent<bool> Restore = new("restore");

    /// <summary>
    /// <c>"hardRollback"</c>: the document dropped its local state and its unacknowledged ops and fetches the server's again, with the
    /// cause (<see langword="null"/> when <see cref="SharedDocument.HardRollbackAsync"/> was called).
    /// </summary>
    /// <example><code>doc.On(SharedDocumentEvents.HardRollback, cause => Console.WriteLine($"reloading: {cause?.Message}"));</code></example>
    public static readonly SharedDocumentEvent<Exception?> HardRollback = new("hardRollback");

    /// <summary>
    /// <c>"error"</c>: an op refused by the server (except code 19, which is silent), a remote op that could not be transformed or applied,
    /// or a failed load that no call was waiting for. Usually a <see cref="SharedDocumentException"/>.
    /// </summary>
    /// <example><code>doc.On(SharedDocumentEvents.Error, ex => logger.LogWarning(ex, "document error"));</code></example>
    public static readonly SharedDocumentEvent<Exception> Error = new("error");
}
