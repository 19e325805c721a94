using System.Text.Json;
using Microsoft.Extensions.Logging;
using Realtime.Client.Internal;

namespace Realtime.Client;

/// <summary>
/// Who else is in the room, and what they show of themselves (the JavaScript original's <c>Presence</c>): each connection of
/// the room may have one state (any JSON, usually an object such as a user name and a cursor), which the server keeps while
/// that connection stays and broadcasts to the room's subscribed connections. Requires presence on the server
/// (<c>server.UsePresence()</c>).
/// </summary>
/// <remarks>
/// <para>Create it on a connection, <see cref="SubscribeAsync"/> to receive the others' states, and submit your own with
/// <see cref="SubmitLocalStateAsync{T}"/>. The wire is the original's (message type <c>"presence"</c>), so C#, browser and
/// original JavaScript clients share one room's presence.</para>
/// <para>All members are thread-safe. Events run on the connection's dispatcher, in order with the connection's own events.
/// The connection's <see cref="ConnectionEvents.Message"/> handlers still see every <c>"presence"</c> message, as in the
/// original client. A request returns once it is queued on the connection: the presence protocol has no acknowledgements.</para>
/// <para>Each reconnection is a new connection to the server, with a new id: its state and its subscription are gone. As in the
/// original, the presence does nothing about it unless <see cref="PresenceClientOptions.RestoreAfterReconnect"/> is set.
/// <see cref="OtherStates"/> keeps what it held meanwhile.</para>
/// <para>Dispose it to stop listening; the connection is not closed, and the server keeps this connection's state until the
/// connection closes or <see cref="RemoveLocalStateAsync"/>.</para>
/// </remarks>
/// <example>
/// <code>
/// using var presence = new Presence(connection);
/// presence.On(PresenceEvents.Add, states => Console.WriteLine($"{states.Count} joined"));
/// presence.On(PresenceEvents.Remove, ids => Console.WriteLine($"{ids.Count} left"));
/// await presence.SubscribeAsync();
/// await presence.SubmitLocalStateAsync(new { user = "ann", cursor = 0 });
/// await presence.SubmitLocalStateFieldAsync("cursor", 12);
/// </code>
/// </example>
public sealed partial class Presence : IDisposable
{
    private readonly Connection _connection;
    private readonly JsonSerializerOptions _json;
    private readonly ILogger _logger;
    private readonly bool _restore;
    private readonly EventRegistry _registry = new();
    private readonly IDisposable[] _registrations;

    // One request at a time, so LocalState changes in the order the server receives the requests. Not disposed: a request
    // may still release it after Dispose, and it never allocates a wait handle.
    private readonly SemaphoreSlim _sendGate = new(1, 1);

    // What the presence holds, behind one lock; events are raised and waiters completed after its methods return.
    private readonly PresenceStore _store;

    /// <summary>Creates a presence on a connection; it listens to the connection's presence messages until disposed.</summary>
    /// <param name="connection">The connection; connected or not yet (requests are then buffered like any message).</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <remarks>Several presences may share a connection: each handles every presence message, and each has its own <see cref="LocalState"/>,
    /// but the server keeps one state per connection.</remarks>
    public Presence(Connection connection, PresenceClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
        _json = connection.Options.JsonSerializerOptions;
        _logger = connection.Logger;
        _restore = options?.RestoreAfterReconnect ?? false;
        _store = new PresenceStore(this, connection.Id);
        _registrations =
        [
            connection.On(ConnectionEvents.Message, OnMessage),
            connection.On(ConnectionEvents.Disconnect, OnDisconnect),
            connection.On(ConnectionEvents.ConnectedAs, OnConnected),
        ];
    }

    /// <summary>The connection this presence is on.</summary>
    public Connection Connection => _connection;

    /// <summary>
    /// This connection's state (the original's <c>localState</c>): what was last submitted, with field updates merged in;
    /// <see langword="null"/> until a state is submitted, and after <see cref="RemoveLocalStateAsync"/>.
    /// </summary>
    /// <remarks>A subscribe answer that carries a state for this connection sets it, unless a change was requested after that subscribe.</remarks>
    public JsonElement? LocalState => _store.Local;

    /// <summary>
    /// The other connections' states (the original's <c>otherStates</c>): connection id → state. A snapshot that later messages do
    /// not change; empty until <see cref="SubscribeAsync"/> is answered.
    /// </summary>
    public IReadOnlyDictionary<string, JsonElement> OtherStates => _store.Others;

    /// <summary>
    /// Subscribes to the room's presence (the original's <c>subscribe()</c>): the server answers with every state of the room,
    /// which replaces <see cref="OtherStates"/> (this connection's own state, if the server has one, goes to <see cref="LocalState"/>),
    /// and from then on sends the others' changes, raised as <see cref="PresenceEvents"/>.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting (for room in the send buffer, or for the answer); the subscribe may still reach the server.</param>
    /// <returns>A task that completes when the answer has been filed; <see cref="OtherStates"/> then holds it. No event is raised for the states it brings.</returns>
    /// <exception cref="RealtimeException">The connection dropped before the answer came. The request may still reach the server after the reconnection
    /// (and its answer is then filed); subscribe again to be sure, or set <see cref="PresenceClientOptions.RestoreAfterReconnect"/>.</exception>
    /// <exception cref="InvalidOperationException">The connection is closed.</exception>
    /// <exception cref="ObjectDisposedException">The presence is disposed.</exception>
    /// <remarks>Before the connection is first connected, the request is buffered and the task waits for the connection: give it a token with a deadline.</remarks>
    public async Task SubscribeAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _sendGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            PresenceSubscribes.Sent request = _store.AddSubscribe(answered);
            try
            {
                await _connection.SendAsync(PresenceWire.Subscribe, PresenceWire.MessageType, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                _store.RemoveSubscribe(request, answered);
                throw;
            }

            _store.MarkSubscribed();
        }
        finally
        {
            _sendGate.Release();
        }

        await answered.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sets this connection's state (the original's <c>submitLocalState(state)</c>): the server keeps it and sends it to the
    /// subscribed connections, as an <see cref="PresenceEvents.Add"/> the first time and an <see cref="PresenceEvents.Update"/> after.
    /// </summary>
    /// <typeparam name="T">The state's type, serialized with the client's <see cref="ClientOptions.JsonSerializerOptions"/>; usually an object, so that fields can be updated.</typeparam>
    /// <param name="state">The state.</param>
    /// <param name="cancellationToken">Stops waiting for room in the send buffer; the state is then neither sent nor set.</param>
    /// <returns>A task that completes when the request is queued and <see cref="LocalState"/> is set.</returns>
    /// <exception cref="InvalidOperationException">The connection is closed.</exception>
    /// <exception cref="ObjectDisposedException">The presence is disposed.</exception>
    /// <exception cref="NotSupportedException">The state cannot be serialized.</exception>
    public Task SubmitLocalStateAsync<T>(T state, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        JsonElement element = JsonSerializer.SerializeToElement(state, _json);
        string request = PresenceWire.SetState(element, _json);
        return ChangeLocalStateAsync(_ => (request, element), cancellationToken);
    }

    /// <summary>
    /// Sets one field of this connection's state (the original's <c>submitLocalStateField(key, value)</c>): cheaper than sending
    /// the whole state. The others receive an <see cref="PresenceEvents.Update"/> with the whole state, the field merged in.
    /// </summary>
    /// <typeparam name="T">The value's type, serialized with the client's <see cref="ClientOptions.JsonSerializerOptions"/>.</typeparam>
    /// <param name="key">The field, as it appears in the JSON (the serializer's naming policy is not applied to it).</param>
    /// <param name="value">The value.</param>
    /// <param name="cancellationToken">Stops waiting for room in the send buffer; the field is then neither sent nor set.</param>
    /// <returns>A task that completes when the request is queued and <see cref="LocalState"/> has the field.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is <c>__proto__</c>, <c>constructor</c> or <c>prototype</c>, which the server ignores.</exception>
    /// <exception cref="InvalidOperationException"><see cref="LocalState"/> is not a JSON object (the server would ignore the update), or the connection is closed.</exception>
    /// <exception cref="ObjectDisposedException">The presence is disposed.</exception>
    public Task SubmitLocalStateFieldAsync<T>(string key, T value, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (PresenceWire.IsReservedKey(key))
        {
            throw new ArgumentException($"The server ignores a field update of '{key}'.", nameof(key));
        }

        ThrowIfDisposed();
        JsonElement element = JsonSerializer.SerializeToElement(value, _json);
        string request = PresenceWire.SetField(key, element, _json);
        return ChangeLocalStateAsync(current => current is { ValueKind: JsonValueKind.Object } state
            ? (request, PresenceWire.WithField(state, key, element))
            : throw new InvalidOperationException("A field can only be set on a state that is a JSON object: submit one with SubmitLocalStateAsync first."),
            cancellationToken);
    }

    /// <summary>
    /// Removes this connection's state (the original's <c>removeLocalState()</c>): the subscribed connections receive a
    /// <see cref="PresenceEvents.Remove"/> if the server had a state for it. <see cref="LocalState"/> becomes <see langword="null"/>.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting for room in the send buffer; nothing is then sent or changed.</param>
    /// <returns>A task that completes when the request is queued.</returns>
    /// <exception cref="InvalidOperationException">The connection is closed.</exception>
    /// <exception cref="ObjectDisposedException">The presence is disposed.</exception>
    public Task RemoveLocalStateAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return ChangeLocalStateAsync(_ => (PresenceWire.Remove, null), cancellationToken);
    }

    /// <summary>
    /// Stops listening: no more events, and the states are no longer updated. A <see cref="SubscribeAsync"/> still waiting
    /// fails with <see cref="ObjectDisposedException"/>. Nothing is sent: the server keeps this connection's state and
    /// subscription until the connection closes (remove the state first with <see cref="RemoveLocalStateAsync"/> if needed).
    /// </summary>
    public void Dispose()
    {
        if (!_store.TryDispose(out TaskCompletionSource[] waiting))
        {
            return;
        }

        foreach (IDisposable registration in _registrations)
        {
            registration.Dispose();
        }

        foreach (TaskCompletionSource waiter in waiting)
        {
            waiter.TrySetException(new ObjectDisposedException(nameof(Presence)));
        }
    }

    private async Task ChangeLocalStateAsync(Func<JsonElement?, (string Request, JsonElement? Next)> change, CancellationToken cancellationToken)
    {
        await _sendGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            (string request, JsonElement? next) = change(_store.LocalBeforeChange());
            await _connection.SendAsync(request, PresenceWire.MessageType, cancellationToken).ConfigureAwait(false);
            _store.SetLocal(next);
        }
        finally
        {
            _sendGate.Release();
        }
    }

    /// <summary>After a reconnection (<see cref="PresenceClientOptions.RestoreAfterReconnect"/>): subscribe again, and submit the local state again.</summary>
    private async Task RestoreAsync()
    {
        try
        {
            await _sendGate.WaitAsync().ConfigureAwait(false);
            try
            {
                if (!_store.TryStartRestore(out bool subscribe, out JsonElement? local))
                {
                    return;
                }

                // Subscribe first: the answer then cannot carry this connection's state, which LocalState already has.
                if (subscribe)
                {
                    await _connection.SendAsync(PresenceWire.Subscribe, PresenceWire.MessageType).ConfigureAwait(false);
                }

                if (local is JsonElement state)
                {
                    await _connection.SendAsync(PresenceWire.SetState(state, _json), PresenceWire.MessageType).ConfigureAwait(false);
                }
            }
            finally
            {
                _sendGate.Release();
            }
        }
        catch (InvalidOperationException ex)
        {
            // The connection closed meanwhile.
            ClientLog.PresenceRestoreFailed(_logger, _connection.RoomId, ex);
        }
    }

    private void ThrowIfDisposed() => _store.ThrowIfDisposed();
}
