using System.Text.Json.Nodes;

namespace Realtime.Server.Internal.Documents;

/// <summary>
/// The documents this node is working on: each one's submit gate (one submit at a time per document, in arrival order) and its live
/// snapshot, kept while its room has members here so that a submit applies to memory instead of reading and parsing the stored snapshot.
/// </summary>
internal sealed class ActiveDocuments
{
    private readonly Dictionary<string, ActiveDocument> _documents = new(StringComparer.Ordinal);

    /// <summary>The document's entry, held until <see cref="Release"/>.</summary>
    /// <param name="documentId">The document.</param>
    /// <param name="pin">Keep it after the last release, until its room ends here (a connection's submit).</param>
    public ActiveDocument Acquire(string documentId, bool pin)
    {
        lock (_documents)
        {
            if (!_documents.TryGetValue(documentId, out ActiveDocument? document))
            {
                document = new ActiveDocument(documentId);
                _documents.Add(documentId, document);
            }

            document.Users++;
            document.Pinned |= pin;
            return document;
        }
    }

    public void Release(ActiveDocument document)
    {
        lock (_documents)
        {
            if (--document.Users == 0 && !document.Pinned)
            {
                _documents.Remove(document.Id);
            }
        }
    }

    /// <summary>The room ended on this node: its live snapshot goes (now, or with its last submit).</summary>
    public void RoomEnded(string documentId)
    {
        lock (_documents)
        {
            if (_documents.TryGetValue(documentId, out ActiveDocument? document))
            {
                document.Pinned = false;
                if (document.Users == 0)
                {
                    _documents.Remove(documentId);
                }
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_documents)
            {
                return _documents.Count;
            }
        }
    }
}

/// <summary>One document's submit queue and live snapshot. The snapshot fields are read and written only by the one drain of the queue.</summary>
internal sealed class ActiveDocument(string id)
{
    private readonly Queue<PendingSubmit> _pending = new();
    private bool _draining;

    /// <summary>How many committed operations a document keeps (<see cref="Remember"/>): enough for the ops in flight of a dozen editors,
    /// few enough (a few KB) to hold for thousands of documents.</summary>
    public const int RecentCapacity = 16;

    private readonly CommittedOp?[] _recent = new CommittedOp?[RecentCapacity];

    public string Id { get; } = id;

    /// <summary>Held by one submit at a time, in arrival order, where submits are not grouped (the in-memory store).</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>Queues a submit; <see langword="true"/> when the caller is to drain the queue (no drain is running), until
    /// <see cref="TakeGroup"/> finds it empty.</summary>
    public bool Enqueue(PendingSubmit submit)
    {
        lock (_pending)
        {
            _pending.Enqueue(submit);
            if (_draining)
            {
                return false;
            }

            _draining = true;
            return true;
        }
    }

    /// <summary>Ends the drain if the queue is empty (<see langword="true"/>); otherwise the drain goes on (<see langword="false"/>).</summary>
    public bool TryEndDrain()
    {
        lock (_pending)
        {
            if (_pending.Count > 0)
            {
                return false;
            }

            _draining = false;
            return true;
        }
    }

    /// <summary>The next submits in arrival order, at most <paramref name="max"/>; <see langword="null"/> when there are none, which ends
    /// the drain (the next <see cref="Enqueue"/> starts one).</summary>
    public PendingSubmit[]? TakeGroup(int max)
    {
        lock (_pending)
        {
            if (_pending.Count == 0)
            {
                _draining = false;
                return null;
            }

            var group = new PendingSubmit[Math.Min(max, _pending.Count)];
            for (int i = 0; i < group.Length; i++)
            {
                group[i] = _pending.Dequeue();
            }

            return group;
        }
    }

    /// <summary>Under <see cref="ActiveDocuments"/>' lock.</summary>
    public int Users { get; set; }

    /// <summary>Under <see cref="ActiveDocuments"/>' lock.</summary>
    public bool Pinned { get; set; }

    /// <summary>The version of <see cref="Data"/>, or -1 when there is no live snapshot (trusted only when the store's record says the same).</summary>
    public long Version { get; private set; } = -1;

    public string? Type { get; private set; }

    public JsonNode? Data { get; private set; }

    /// <summary>The incarnation of the record <see cref="Data"/> belongs to (<see cref="DocumentRecord.Incarnation"/>).</summary>
    public string? Incarnation { get; private set; }

    /// <summary>
    /// The store's record as this node last knew it (from its own commit, or a read), while the live snapshot is kept; <see langword="null"/>
    /// otherwise, and for a record without an incarnation (from before stores kept one). An op may be written against it without reading
    /// the record first: where another node has moved the record since (or made it a new life), the store's compare-and-set refuses the
    /// write, and the submit starts again from a fresh read.
    /// </summary>
    public DocumentRecord? Assumed { get; private set; }

    public void Set(long version, string? type, JsonNode? data, string? incarnation)
    {
        if (!string.Equals(Incarnation, incarnation, StringComparison.Ordinal))
        {
            Array.Clear(_recent); // another life's ops can have the same versions
        }

        Version = version;
        Type = type;
        Data = data;
        Incarnation = incarnation;
        // Only a record with an incarnation: without one, the compare-and-set cannot tell a document deleted and created again elsewhere.
        Assumed = version > 0 && type is not null && incarnation is not null ? new DocumentRecord(version, type) { Incarnation = incarnation } : null;
    }

    /// <summary>Whether the live snapshot is the store's: the record's version, type and incarnation (a document deleted and created again
    /// by another node can reach the same version and type).</summary>
    public bool IsCurrent(DocumentRecord record)
        => Version == record.Version && string.Equals(Type, record.Type, StringComparison.Ordinal)
           && string.Equals(Incarnation, record.Incarnation, StringComparison.Ordinal);

    /// <summary>Drops the live snapshot and the recent operations: an apply that threw (it may have half changed it), a write that did
    /// not happen, a delete.</summary>
    public void Invalidate()
    {
        Set(-1, null, null, null);
        Array.Clear(_recent);
    }

    /// <summary>Keeps a committed operation for the submits after it (the newest <see cref="RecentCapacity"/>, by version).</summary>
    public void Remember(CommittedOp op) => _recent[op.Operation.Version % RecentCapacity] = op;

    /// <summary>The committed operations from <paramref name="from"/> up to, not including, the record's version, if every one is kept;
    /// trusted only while the live snapshot is the store's (<see cref="IsCurrent"/>), as the snapshot is.</summary>
    public CommittedOp[]? Recent(long from, DocumentRecord record)
    {
        long to = record.Version;
        if (!IsCurrent(record) || to - from > RecentCapacity)
        {
            return null;
        }

        var ops = new CommittedOp[to - from];
        for (long v = from; v < to; v++)
        {
            if (_recent[v % RecentCapacity] is not { } op || op.Operation.Version != v)
            {
                return null;
            }

            ops[v - from] = op;
        }

        return ops;
    }
}
