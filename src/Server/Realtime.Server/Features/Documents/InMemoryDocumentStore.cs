using System.Collections.Concurrent;

namespace Realtime.Server;

/// <summary>
/// The default <see cref="DocumentStore"/>: documents in this process's memory, gone when it stops, seen by this node only. Fit for one
/// node and for tests; a cluster needs a store every node shares.
/// </summary>
/// <remarks>Thread-safe: each document has a lock of its own, held only while copying references in or out (no await under it).</remarks>
public sealed class InMemoryDocumentStore : DocumentStore
{
    private readonly ConcurrentDictionary<string, Entry> _documents = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public override ValueTask<DocumentRecord?> GetRecordAsync(string documentId, CancellationToken cancellationToken = default)
        => new(Read(documentId, static entry => entry.Record));

    /// <inheritdoc/>
    public override ValueTask<StoredSnapshot?> GetSnapshotAsync(string documentId, CancellationToken cancellationToken = default)
        => new(Read(documentId, static entry => entry.Snapshot));

    /// <inheritdoc/>
    public override ValueTask<IReadOnlyList<DocumentOperation>> GetOperationsAsync(string documentId, long from, long? to,
                                                                                     CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        if (!_documents.TryGetValue(documentId, out Entry? entry))
        {
            return new([]);
        }

        lock (entry)
        {
            if (entry.Erased)
            {
                return new([]);
            }

            // The log has no gaps and starts at LogStart (0 until trimmed): a version less LogStart is its index.
            long start = Math.Clamp(from - entry.LogStart, 0, entry.Log.Count);
            long end = Math.Clamp((to ?? long.MaxValue) - entry.LogStart, start, entry.Log.Count);
            return new(entry.Log.GetRange((int)start, (int)(end - start)));
        }
    }

    /// <inheritdoc/>
    public override ValueTask<DocumentOperation?> FindOperationAsync(string documentId, string source, long sequence,
                                                                     CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new(Read(documentId, entry => entry.Log.FindLast(op => op.Sequence == sequence && op.Source == source)));
    }

    /// <inheritdoc/>
    public override ValueTask<StoredSnapshot?> GetMilestoneAsync(string documentId, long version, CancellationToken cancellationToken = default)
        => new(Read(documentId, entry => entry.Milestones.LastOrDefault(m => m.Version <= version)));

    /// <inheritdoc/>
    public override ValueTask<bool> CommitAsync(string documentId, DocumentCommit commit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        ArgumentNullException.ThrowIfNull(commit);
        if (commit.Operation.Kind == DocumentOperationKind.Delete)
        {
            throw new ArgumentException("A delete erases the document: DeleteAsync.", nameof(commit));
        }

        while (true)
        {
            Entry entry = _documents.GetOrAdd(documentId, static _ => new Entry());
            lock (entry)
            {
                if (entry.Erased)
                {
                    continue; // deleted between the lookup and the lock: take the new entry
                }

                if ((entry.Record?.Version ?? 0) != commit.Operation.Version || !SameLife(entry.Record, commit))
                {
                    return new(false);
                }

                entry.Log.Add(commit.Operation);
                entry.Record = new DocumentRecord(commit.Operation.Version + 1, commit.Type)
                {
                    Incarnation = entry.Record is null ? commit.Incarnation : entry.Record.Incarnation,
                };
                if (commit.Snapshot is not null)
                {
                    entry.Snapshot = commit.Snapshot;
                }

                if (commit.Milestone is { } milestone)
                {
                    entry.Milestones.RemoveAll(m => m.Version >= milestone.Version);
                    entry.Milestones.Add(milestone);
                }

                return new(true);
            }
        }
    }

    /// <inheritdoc/>
    public override ValueTask<bool> DeleteAsync(string documentId, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        if (!_documents.TryGetValue(documentId, out Entry? entry))
        {
            return new(expectedVersion == 0);
        }

        lock (entry)
        {
            if (entry.Erased)
            {
                return new(expectedVersion == 0);
            }

            if ((entry.Record?.Version ?? 0) != expectedVersion)
            {
                return new(false);
            }

            entry.Erased = true;
            _documents.TryRemove(new KeyValuePair<string, Entry>(documentId, entry));
            return new(true);
        }
    }

    /// <inheritdoc/>
    public override ValueTask<long?> TrimAsync(string documentId, DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        if (!_documents.TryGetValue(documentId, out Entry? entry))
        {
            return new((long?)null);
        }

        lock (entry)
        {
            int newest = entry.Milestones.FindLastIndex(m => m.Time <= before);
            if (entry.Erased || newest < 0)
            {
                return new((long?)null);
            }

            long version = entry.Milestones[newest].Version;
            entry.Milestones.RemoveRange(0, newest);
            int trimmed = (int)Math.Clamp(version - entry.LogStart, 0, entry.Log.Count);
            entry.Log.RemoveRange(0, trimmed);
            entry.LogStart += trimmed;
            return new(version);
        }
    }

    private T? Read<T>(string documentId, Func<Entry, T?> read)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(documentId);
        if (!_documents.TryGetValue(documentId, out Entry? entry))
        {
            return null;
        }

        lock (entry)
        {
            return entry.Erased ? null : read(entry);
        }
    }

    /// <summary>Whether a commit after version 0 was prepared against the record's life (<see cref="DocumentCommit.Incarnation"/>).</summary>
    private static bool SameLife(DocumentRecord? record, DocumentCommit commit)
        => record?.Incarnation is not { } kept || commit.Incarnation is not { } expected || string.Equals(kept, expected, StringComparison.Ordinal);

    private sealed class Entry
    {
        public DocumentRecord? Record;
        public StoredSnapshot? Snapshot;
        public bool Erased;
        public readonly List<DocumentOperation> Log = [];
        public long LogStart; // the version of Log[0]
        public readonly List<StoredSnapshot> Milestones = []; // in version order
    }
}
