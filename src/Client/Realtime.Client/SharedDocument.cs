using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Realtime.Client.Internal;

namespace Realtime.Client;

/// <summary>
/// A document edited together through operational transformation (the JavaScript original's <c>SharedDoc</c>): the room's document,
/// kept by the server (<c>server.UseDocuments()</c>), of an <see cref="IOtType"/> such as <see cref="OtTypes.Json0"/>. Local ops are
/// applied at once and sent one at a time; the others' ops are transformed against them and applied as they arrive.
/// </summary>
/// <remarks>
/// <para>One document per room: the document's id is the connection's room id. The wire is the original's (message type
/// <c>"ot-doc"</c>), so C#, browser and original JavaScript clients edit one document together.</para>
/// <para>All members are thread-safe. Events (<see cref="SharedDocumentEvents"/>) run on the connection's dispatcher, in the order the
/// document changed. A submit completes when the server acknowledges the op.</para>
/// <para>Through a reconnection the document keeps its content and its unacknowledged ops: the op in flight is sent again with its
/// <c>src</c> and <c>seq</c> (the server acknowledges it once and applies it once), the queued ops follow, and the document
/// subscribes again from its version if it was subscribed. Ops submitted while offline are applied locally and composed into one.</para>
/// <para>Dispose it to stop listening; the connection is not closed.</para>
/// </remarks>
/// <example>
/// <code>
/// using var doc = new SharedDocument(connection, OtTypes.Json0);
/// doc.On(SharedDocumentEvents.Op, e => Render(doc.Data));
/// await doc.SubscribeAsync();
/// if (doc.Type is null) await doc.CreateAsync(new JsonObject { ["items"] = new JsonArray() });
/// await doc.SubmitOpAsync(JsonNode.Parse("""[{"p":["items",0],"li":"milk"}]""")!);
/// </code>
/// </example>
public sealed partial class SharedDocument : IDisposable, IDocumentHost
{
    private readonly Connection _connection;
    private readonly ILogger _logger;
    private readonly EventRegistry _registry = new();
    private readonly DocumentEngine _engine;
    private readonly IDisposable[] _registrations;

    /// <summary>Creates the room's document on a connection, of one type.</summary>
    /// <param name="connection">The connection; connected or not yet (requests wait for the connection).</param>
    /// <param name="type">The document's type (the server must have it too).</param>
    public SharedDocument(Connection connection, IOtType type)
        : this(connection, [type ?? throw new ArgumentNullException(nameof(type))])
    {
    }

    /// <summary>Creates the room's document on a connection, knowing several types (the original's registered types).</summary>
    /// <param name="connection">The connection; connected or not yet (requests wait for the connection).</param>
    /// <param name="types">The types the document may have, found by the URI or name the server gives; the first is what
    /// <see cref="CreateAsync"/> uses by default. At least one.</param>
    public SharedDocument(Connection connection, IEnumerable<IOtType> types)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(types);
        _connection = connection;
        _logger = connection.Logger;
        _engine = new DocumentEngine(this, types, connection.Connected ? connection.Id : null);
        _registrations =
        [
            connection.On(ConnectionEvents.Message, OnMessage),
            connection.On(ConnectionEvents.Disconnect, _ => _engine.Disconnected()),
            connection.On(ConnectionEvents.ConnectedAs, _engine.Connected),
        ];
    }

    /// <summary>The connection this document is on.</summary>
    public Connection Connection => _connection;

    /// <summary>The document's id: the connection's room id (the original's one document per room).</summary>
    public string Id => _connection.RoomId;

    /// <summary>
    /// The version the local content is at (the original's <c>version</c>): <see langword="null"/> until the document is loaded (fetch,
    /// subscribe) or created; 0 for a document that does not exist. Local ops not yet acknowledged are not counted.
    /// </summary>
    public long? Version => _engine.Version;

    /// <summary>The document's type (the original's <c>type</c>); <see langword="null"/> while the document does not exist or is not loaded.</summary>
    public IOtType? Type => _engine.Type;

    /// <summary>
    /// A copy of the content (the original's <c>data</c>), local ops included: <see langword="null"/> while the document does not exist or
    /// is not loaded. Each read copies the whole content; changing the copy changes nothing.
    /// </summary>
    public JsonNode? Data => _engine.Data;

    /// <summary>Whether the document is subscribed now (the original's <c>subscribed</c>): its subscribe was answered on the current connection.</summary>
    public bool Subscribed => _engine.Subscribed;

    /// <summary>Whether local ops wait to be sent or acknowledged (the original's <c>hasWritePending()</c>).</summary>
    public bool HasPendingOps => _engine.HasPendingOps;

    /// <summary>
    /// Loads the document (the original's <c>fetch()</c>): the snapshot when it is not loaded yet (<see cref="SharedDocumentEvents.Load"/>),
    /// or else the ops committed since <see cref="Version"/>, applied as remote ops.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting; the fetch goes on.</param>
    /// <returns>A task that completes when the answer is applied.</returns>
    /// <exception cref="SharedDocumentException">The server refused the fetch.</exception>
    /// <exception cref="ObjectDisposedException">The document is disposed.</exception>
    public Task FetchAsync(CancellationToken cancellationToken = default) => _engine.FetchAsync().WaitAsync(cancellationToken);

    /// <summary>
    /// Loads the document like <see cref="FetchAsync"/> and receives the others' ops from then on (the original's <c>subscribe()</c>),
    /// also after each reconnection (from <see cref="Version"/>).
    /// </summary>
    /// <param name="cancellationToken">Stops waiting; the subscribe goes on.</param>
    /// <returns>A task that completes when the answer is applied.</returns>
    /// <exception cref="SharedDocumentException">The server refused the subscribe.</exception>
    /// <exception cref="ObjectDisposedException">The document is disposed.</exception>
    public Task SubscribeAsync(CancellationToken cancellationToken = default) => _engine.SubscribeAsync().WaitAsync(cancellationToken);

    /// <summary>
    /// Creates the document (the original's <c>create(data, type)</c>): applied locally at once (<see cref="SharedDocumentEvents.Create"/>),
    /// then sent.
    /// </summary>
    /// <param name="data">The initial data, given to the type's <see cref="IOtType.Create"/>; not kept.</param>
    /// <param name="type">The type; <see langword="null"/> for the first one the document was given.</param>
    /// <param name="cancellationToken">Stops waiting; the create goes on.</param>
    /// <returns>A task that completes when the server acknowledges the create.</returns>
    /// <exception cref="InvalidOperationException">The document exists already (as far as this client knows).</exception>
    /// <exception cref="SharedDocumentException">The server refused it (code 0: created meanwhile by someone else); the document then
    /// fetches the server's state (<see cref="SharedDocumentEvents.HardRollback"/>).</exception>
    /// <exception cref="ObjectDisposedException">The document is disposed.</exception>
    public Task CreateAsync(JsonNode? data, IOtType? type = null, CancellationToken cancellationToken = default)
        => _engine.CreateAsync(data, type).WaitAsync(cancellationToken);

    /// <summary>
    /// Deletes the document (the original's <c>del()</c>): applied locally at once (<see cref="SharedDocumentEvents.Delete"/>), then sent.
    /// The server erases it with its history.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting; the delete goes on.</param>
    /// <returns>A task that completes when the server acknowledges the delete.</returns>
    /// <exception cref="InvalidOperationException">The document does not exist (as far as this client knows).</exception>
    /// <exception cref="SharedDocumentException">The server refused it; the document then fetches the server's state.</exception>
    /// <exception cref="ObjectDisposedException">The document is disposed.</exception>
    public Task DeleteAsync(CancellationToken cancellationToken = default) => _engine.DeleteAsync().WaitAsync(cancellationToken);

    /// <summary>
    /// Submits an op of the document's type (the original's <c>submitOp(op)</c>): normalized, applied locally at once
    /// (<see cref="SharedDocumentEvents.BeforeOp"/>, <see cref="SharedDocumentEvents.Op"/>), then sent, one op in flight at a time; ops
    /// submitted meanwhile are composed into one.
    /// </summary>
    /// <param name="op">The op; not kept.</param>
    /// <param name="cancellationToken">Stops waiting; the op goes on.</param>
    /// <returns>A task that completes when the server acknowledges the op, or when it refuses it silently (code 19: the op is rolled back).</returns>
    /// <exception cref="InvalidOperationException">The document does not exist (as far as this client knows).</exception>
    /// <exception cref="OtException">The type cannot normalize the op (thrown at once, nothing applied), or cannot apply it: the task then
    /// fails, and since the content may be half changed the document does a hard rollback (<see cref="SharedDocumentEvents.HardRollback"/>;
    /// the ops waiting with it fail too), as the original does.</exception>
    /// <exception cref="SharedDocumentException">The server refused the op (for example a middleware refusal, code 1000): it was rolled back
    /// by its inverse (the type's <see cref="IOtType.Invert"/>), or by fetching the server's state when the type cannot invert. Also
    /// raised as <see cref="SharedDocumentEvents.Error"/>.</exception>
    /// <exception cref="ObjectDisposedException">The document is disposed.</exception>
    public Task SubmitOpAsync(JsonNode op, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(op);
        return _engine.SubmitOpAsync(op).WaitAsync(cancellationToken);
    }

    /// <summary>The document as it was at a version (the original's <c>fetchHistorySnapshot({version})</c>), rebuilt by the server.</summary>
    /// <param name="version">The version (0 gives a document that did not exist yet).</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The snapshot.</returns>
    /// <exception cref="SharedDocumentException">The server refused (code 17: the version is newer than the document's).</exception>
    /// <exception cref="ObjectDisposedException">The document is disposed.</exception>
    public Task<SharedDocumentSnapshot> FetchHistorySnapshotAsync(long version, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        return _engine.FetchHistorySnapshotAsync(version).WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Brings the content back to what it was at an earlier version (the original's <c>restore(version)</c>): fetches that version's
    /// snapshot, replaces the content locally (<see cref="SharedDocumentEvents.Restore"/>) and submits a restore; the history before it stays.
    /// </summary>
    /// <param name="version">The version, from 1 to the document's version − 1.</param>
    /// <param name="cancellationToken">Stops waiting; once the snapshot is fetched the restore goes on.</param>
    /// <returns>A task that completes when the server acknowledges the restore.</returns>
    /// <exception cref="InvalidOperationException">The document does not exist, or had no content of its type at that version.</exception>
    /// <exception cref="SharedDocumentException">The server refused (29: a bad target version); the document then fetches the server's state.</exception>
    /// <exception cref="ObjectDisposedException">The document is disposed.</exception>
    public async Task RestoreAsync(long version, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(version);
        SharedDocumentSnapshot snapshot = await FetchHistorySnapshotAsync(version, cancellationToken).ConfigureAwait(false);
        await _engine.RestoreAsync(snapshot).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Drops the local content and every op not yet acknowledged (their calls fail) and loads the server's snapshot again (the original's
    /// <c>hardRollback()</c>); raises <see cref="SharedDocumentEvents.HardRollback"/> then <see cref="SharedDocumentEvents.Load"/>. The
    /// way back after a local state the server does not share.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting; the fetch goes on.</param>
    /// <returns>A task that completes when the snapshot is loaded.</returns>
    /// <exception cref="ObjectDisposedException">The document is disposed.</exception>
    /// <remarks>An op in flight may still be committed by the server; the snapshot may then miss it until the next op brings the
    /// document up to date.</remarks>
    public Task HardRollbackAsync(CancellationToken cancellationToken = default) => _engine.HardRollbackAsync().WaitAsync(cancellationToken);

    /// <summary>
    /// Stops listening (the original's <c>destroy()</c>): no more events; waiting calls fail with <see cref="ObjectDisposedException"/>; ops
    /// not yet acknowledged are not sent again. Nothing is sent: the connection stays subscribed until it closes.
    /// </summary>
    public void Dispose()
    {
        _engine.Dispose();
        foreach (IDisposable registration in _registrations)
        {
            registration.Dispose();
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"SharedDocument {Id} (version {Version?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "not loaded"}, {Type?.Name ?? "no type"})";

    private void OnMessage(Message message)
    {
        if (DocumentWire.TryRead(message, out int action) is { } body)
        {
            _engine.Receive(action, body);
        }
    }

    bool IDocumentHost.TrySend(JsonObject request)
    {
        try
        {
            _connection.Send(request, DocumentWire.MessageType);
            return true;
        }
        catch (Exception ex) when (ex is RealtimeException or InvalidOperationException)
        {
            ClientLog.DocumentSendFailed(_logger, _connection.RoomId, ex);
            return false;
        }
    }

    void IDocumentHost.Raise<TArgs>(SharedDocumentEvent<TArgs> evt, TArgs args)
        => _connection.Post(() => _registry.RunNow(evt.Name, args, 1, _logger, "document "));

    long IDocumentHost.NextSeq() => _connection.NextDocumentSeq();
}
