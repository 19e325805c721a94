using System.Text.Json.Nodes;

namespace Realtime.Client.Internal;

/// <summary>
/// A shared document's content as this client sees it: the OT types it knows, the document's type (none while the document does not
/// exist), the snapshot and the version it is at; and how a loaded snapshot or a remote op changes them, with their events.
/// </summary>
/// <remarks>Not thread-safe: guarded by the <see cref="DocumentEngine"/>'s lock.</remarks>
internal sealed class DocumentContent
{
    private readonly IDocumentHost _host;
    private readonly List<IOtType> _types;

    /// <param name="host">Raises the events.</param>
    /// <param name="types">The types the document knows (the first is the default of a create); at least one.</param>
    public DocumentContent(IDocumentHost host, IEnumerable<IOtType> types)
    {
        _host = host;
        _types = [.. types];
        if (_types.Count == 0 || _types.Contains(null!))
        {
            throw new ArgumentException("A shared document needs at least one OT type, and no null ones.", nameof(types));
        }
    }

    /// <summary>The document's type; <see langword="null"/> when it does not exist (or is not loaded).</summary>
    public IOtType? Type { get; set; }

    /// <summary>The snapshot (the document's data); the application only ever sees a copy, or reads it under the lock.</summary>
    public JsonNode? Data { get; set; }

    /// <summary>The version the snapshot is at; <see langword="null"/> before a load, and after a hard rollback until the next one.</summary>
    public long? Version { get; set; }

    /// <summary>Whether <paramref name="nameOrUri"/> names <paramref name="type"/>, by its URI or its short name.</summary>
    public static bool Matches(IOtType type, string nameOrUri) => nameOrUri == type.Uri || nameOrUri == type.Name;

    /// <summary>The type a create uses: <paramref name="type"/>, or the default; known from now on.</summary>
    public IOtType ForCreate(IOtType? type)
    {
        type ??= _types[0];
        if (!_types.Contains(type))
        {
            _types.Add(type);
        }

        return type;
    }

    /// <summary>Forgets the type, the snapshot and the version (a hard rollback).</summary>
    public void Clear()
    {
        Type = null;
        Data = null;
        Version = null;
    }

    /// <summary>Loads <paramref name="snapshot"/> (the document has no version and no ops of its own) and raises its event.</summary>
    /// <returns>Why it cannot: its type is unknown; <see langword="null"/> when loaded.</returns>
    public SharedDocumentException? Load(SharedDocumentSnapshot snapshot)
    {
        IOtType? type = null;
        if (snapshot.TypeUri is not null && (type = Resolve(snapshot.TypeUri)) is null)
        {
            return new SharedDocumentException(2, $"Unknown type {snapshot.TypeUri}: pass it to the SharedDocument.");
        }

        Version = snapshot.Version;
        Type = type;
        Data = type is null ? null : snapshot.Data;
        _host.Raise(SharedDocumentEvents.Load, snapshot.Version);
        return null;
    }

    /// <summary>Applies a remote op (or a rollback's inverse) and raises its events.</summary>
    /// <returns>Why it could not be applied (the snapshot may then be changed half-way); <see langword="null"/> when applied.</returns>
    public SharedDocumentException? ApplyRemote(PendingOp remote)
    {
        try
        {
            switch (remote.Kind)
            {
                case DocumentOpKind.Op when Type is { } type:
                    _host.Raise(SharedDocumentEvents.BeforeOp, new SharedDocumentOp(remote.Op!.DeepClone(), isLocal: false));
                    Data = type.Apply(Data, remote.Op!);
                    _host.Raise(SharedDocumentEvents.Op, new SharedDocumentOp(remote.Op!.DeepClone(), isLocal: false));
                    return null;
                case DocumentOpKind.Op:
                    return new SharedDocumentException(1, "Document does not exist");
                case DocumentOpKind.Create:
                    IOtType created = Resolve(remote.TypeName!) ?? throw new OtException($"Unknown type {remote.TypeName}: pass it to the SharedDocument.");
                    Data = created.Create(remote.Data);
                    Type = created;
                    _host.Raise(SharedDocumentEvents.Create, false);
                    return null;
                case DocumentOpKind.Delete:
                    Type = null;
                    Data = null;
                    _host.Raise(SharedDocumentEvents.Delete, false);
                    return null;
                case DocumentOpKind.Restore when Type is { } type:
                    Data = type.Create(remote.Data);
                    _host.Raise(SharedDocumentEvents.Restore, false);
                    return null;
                case DocumentOpKind.Restore:
                    return new SharedDocumentException(1, "Document does not exist");
                default:
                    return null;
            }
        }
        catch (Exception ex) when (ex is OtException or NotSupportedException or InvalidOperationException)
        {
            return new SharedDocumentException(9, ex.Message, ex);
        }
    }

    private IOtType? Resolve(string nameOrUri) => _types.Find(t => Matches(t, nameOrUri));
}
