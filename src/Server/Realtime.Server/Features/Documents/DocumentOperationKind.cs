namespace Realtime.Server;

/// <summary>What a committed <see cref="DocumentOperation"/> did; its key on the wire is the one named here.</summary>
public enum DocumentOperationKind
{
    /// <summary><c>op</c>: an operation of the document's type.</summary>
    Op,

    /// <summary><c>create</c>: the document was created (payload <c>{type, data}</c>, the type as its URI).</summary>
    Create,

    /// <summary><c>del</c>: the document was deleted (payload <c>true</c>). A store erases the document instead of keeping this in its log.</summary>
    Delete,

    /// <summary><c>restore</c>: the document's content was replaced by an earlier version's (payload <c>{v, data}</c>).</summary>
    Restore,
}
