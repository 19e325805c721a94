using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Realtime.Server.Sqlite;

/// <summary>
/// A <see cref="DocumentStore"/> in one SQLite file: document records (with their incarnations), the op log, the latest snapshot (one
/// row per fragment) and milestones (with their commit times, for <see cref="TrimAsync"/>) survive a restart of the app. The file is in
/// WAL mode (readers never wait for the writer); its schema is created and migrated by the store, and a file from a newer version of the
/// store is refused. For one server: the nodes of a cluster need a store they share (PostgreSQL). See docs/stores.md.
/// </summary>
/// <remarks>
/// <para>Thread-safe. Each call takes a connection of its own from a small pool (SQLite connections are not thread-safe). Writes
/// (<see cref="CommitAsync"/>, <see cref="DeleteAsync"/>, <see cref="TrimAsync"/>) are each one <c>BEGIN IMMEDIATE</c> transaction
/// that writes everything or nothing (a commit or a delete only when the record's version is the one expected); this process's
/// writes wait their turn asynchronously, and wait for another process's write up to 30 seconds (Microsoft.Data.Sqlite's command
/// timeout), then throw <see cref="SqliteException"/>.</para>
/// <para>A commit returns once it is as durable as <see cref="SqliteDocumentStoreOptions.Synchronous"/> says: with the default,
/// <see cref="SqliteSynchronous.Full"/>, it survives a power loss.</para>
/// <para>A milestone's time is kept to the millisecond (the latest snapshot's is not kept). <see cref="TrimAsync"/> removes, in one
/// transaction, the document's ops below the newest milestone old enough and the milestones below it, each a range of the document's
/// own keys; a milestone from a file of schema version 1 has no time and is never old enough.</para>
/// <para>Cancellation is honoured before a call starts and while a write waits its turn; a statement that has started (each is a
/// lookup by key) runs to its end, and a commit once started is either written whole or not at all.</para>
/// </remarks>
public sealed class SqliteDocumentStore : DocumentStore, IDisposable
{
    private readonly SqliteSessionPool _pool;
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    /// <summary>Opens (or creates) the store in the file at <paramref name="path"/>, with the default options.</summary>
    /// <param name="path">The SQLite file; its directory is created when missing. A relative path is taken from the current directory.</param>
    public SqliteDocumentStore(string path)
        : this(path, null, null)
    {
    }

    /// <summary>Opens (or creates) the store in the file at <paramref name="path"/>: WAL mode on, the schema created or migrated.</summary>
    /// <param name="path">The SQLite file; its directory is created when missing. A relative path is taken from the current directory.</param>
    /// <param name="options">The store's settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="loggerFactory">Where the store logs (opening, migrations), or <see langword="null"/>.</param>
    /// <exception cref="InvalidOperationException">The file has a schema version newer than this store knows, or cannot be put in WAL mode.</exception>
    /// <exception cref="SqliteException">The file cannot be opened or is not a SQLite database.</exception>
    public SqliteDocumentStore(string path, SqliteDocumentStoreOptions? options, ILoggerFactory? loggerFactory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        options ??= new SqliteDocumentStoreOptions();
        Path = System.IO.Path.GetFullPath(path);
        Synchronous = options.Synchronous;
        string? directory = System.IO.Path.GetDirectoryName(Path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        _pool = new SqliteSessionPool(Path, Synchronous);
        ILogger logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<SqliteDocumentStore>();
        SqliteSession? session = null;
        try
        {
            session = _pool.Open();
            long from = SqliteSchema.Migrate(session.Connection, Path);
            if (from == 0)
            {
                SqliteStoreLog.Created(logger, Path, SqliteSchema.CurrentVersion);
            }
            else if (from != SqliteSchema.CurrentVersion)
            {
                SqliteStoreLog.Migrated(logger, Path, from, SqliteSchema.CurrentVersion);
            }

            SqliteStoreLog.Opened(logger, Path, session.Connection.ServerVersion, SqliteSchema.CurrentVersion, Synchronous);
            _pool.Return(session);
        }
        catch
        {
            session?.Dispose();
            _pool.Dispose();
            throw;
        }
    }

    /// <summary>The file, as a full path.</summary>
    public string Path { get; }

    /// <summary>How durable each commit is before it returns.</summary>
    public SqliteSynchronous Synchronous { get; }

    /// <summary>The store's connections (for tests).</summary>
    internal SqliteSessionPool Pool => _pool;

    /// <inheritdoc/>
    public override ValueTask<DocumentRecord?> GetRecordAsync(string documentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        return Read(documentId, static (session, id) =>
        {
            SqliteCommand command = session.Command(SqliteStatements.Record);
            SqliteRows.Bind(command, "$id", id);
            using SqliteDataReader reader = command.ExecuteReader();
            return reader.Read()
                ? new DocumentRecord(reader.GetInt64(0), reader.GetString(1)) { Incarnation = reader.IsDBNull(2) ? null : reader.GetString(2) }
                : null;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public override ValueTask<StoredSnapshot?> GetSnapshotAsync(string documentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        return Read(documentId, static (session, id) =>
        {
            SqliteCommand command = session.Command(SqliteStatements.Snapshot);
            SqliteRows.Bind(command, "$id", id);
            using SqliteDataReader reader = command.ExecuteReader();
            return SqliteRows.Snapshot(reader);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public override ValueTask<IReadOnlyList<DocumentOperation>> GetOperationsAsync(string documentId, long from, long? to,
                                                                                     CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        return Read((documentId, from, to), static (session, state) =>
        {
            SqliteCommand command = session.Command(SqliteStatements.Operations);
            SqliteRows.Bind(command, "$id", state.documentId);
            SqliteRows.Bind(command, "$from", state.from);
            SqliteRows.Bind(command, "$to", state.to ?? long.MaxValue);
            using SqliteDataReader reader = command.ExecuteReader();
            var operations = new List<DocumentOperation>();
            while (reader.Read())
            {
                operations.Add(SqliteRows.Operation(reader));
            }

            return (IReadOnlyList<DocumentOperation>)operations;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public override ValueTask<DocumentOperation?> FindOperationAsync(string documentId, string source, long sequence,
                                                                     CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        ArgumentNullException.ThrowIfNull(source);
        return Read((documentId, source, sequence), static (session, state) =>
        {
            SqliteCommand command = session.Command(SqliteStatements.FindOperation);
            SqliteRows.Bind(command, "$id", state.documentId);
            SqliteRows.Bind(command, "$source", state.source);
            SqliteRows.Bind(command, "$sequence", state.sequence);
            using SqliteDataReader reader = command.ExecuteReader();
            return reader.Read() ? SqliteRows.Operation(reader) : null;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public override ValueTask<StoredSnapshot?> GetMilestoneAsync(string documentId, long version, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        return Read((documentId, version), static (session, state) =>
        {
            SqliteCommand command = session.Command(SqliteStatements.Milestone);
            SqliteRows.Bind(command, "$id", state.documentId);
            SqliteRows.Bind(command, "$version", state.version);
            using SqliteDataReader reader = command.ExecuteReader();
            return SqliteRows.Snapshot(reader, withTime: true);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public override async ValueTask<bool> CommitAsync(string documentId, DocumentCommit commit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        ArgumentNullException.ThrowIfNull(commit);
        if (commit.Operation.Kind == DocumentOperationKind.Delete)
        {
            throw new ArgumentException("A delete erases the document: DeleteAsync.", nameof(commit));
        }

        return await WriteAsync((documentId, commit, cancellationToken), static (session, state) => SqliteWrites.Commit(session, state.documentId,
                                                                                                                          state.commit, state.cancellationToken),
                                cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>One <c>BEGIN IMMEDIATE</c> transaction for them all (one sync of the file): all are written, or none when any is refused.</remarks>
    public override async ValueTask<int> CommitManyAsync(string documentId, IReadOnlyList<DocumentCommit> commits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        ArgumentNullException.ThrowIfNull(commits);
        if (commits.Any(c => c.Operation.Kind == DocumentOperationKind.Delete))
        {
            throw new ArgumentException("A delete erases the document: DeleteAsync.", nameof(commits));
        }

        return commits.Count == 0
            ? 0
            : await WriteAsync((documentId, commits, cancellationToken), static (session, state) => SqliteWrites.CommitMany(session, state.documentId,
                                                                                                                          state.commits, state.cancellationToken),
                               cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override async ValueTask<bool> DeleteAsync(string documentId, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        return await WriteAsync((documentId, expectedVersion, cancellationToken), static (session, state) => SqliteWrites.Delete(session, state.documentId,
                                                                                                                                  state.expectedVersion, state.cancellationToken),
                                cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>One <c>BEGIN IMMEDIATE</c> transaction. Times are compared to the millisecond (a milestone's time is stored as Unix
    /// milliseconds UTC): a milestone committed less than a millisecond after <paramref name="before"/> counts as old enough.</remarks>
    public override async ValueTask<long?> TrimAsync(string documentId, DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        return await WriteAsync((documentId, before, cancellationToken), static (session, state) => SqliteWrites.Trim(session, state.documentId, state.before,
                                                                                                                        state.cancellationToken),
                                cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Closes the store's connections (the last one to close checkpoints the write-ahead log into the file). A call in progress
    /// finishes on its connection, which is closed then; a call made afterwards throws <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose() => _pool.Dispose();

    /// <summary>Runs a read on a connection of the pool; its failure (or cancellation) is the returned task's.</summary>
    private ValueTask<T> Read<TState, T>(TState state, Func<SqliteSession, TState, T> read, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<T>(cancellationToken);
        }

        try
        {
            return new ValueTask<T>(Use(state, read));
        }
        catch (Exception exception)
        {
            return ValueTask.FromException<T>(exception);
        }
    }

    /// <summary>Runs a write on a connection of the pool, after this store's writes before it (in turn, rather than in SQLite's busy loop).</summary>
    private async ValueTask<T> WriteAsync<TState, T>(TState state, Func<SqliteSession, TState, T> write, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return Use(state, write);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>Runs <paramref name="work"/> on a connection of the pool: returned to it afterwards, or closed when the work failed.</summary>
    private T Use<TState, T>(TState state, Func<SqliteSession, TState, T> work)
    {
        SqliteSession session = _pool.Rent();
        T result;
        try
        {
            result = work(session, state);
        }
        catch
        {
            SqliteSessionPool.Discard(session);
            throw;
        }

        _pool.Return(session);
        return result;
    }
}
