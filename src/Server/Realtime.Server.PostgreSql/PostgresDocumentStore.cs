using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using static Realtime.Server.PostgreSql.PostgresParameters;

namespace Realtime.Server.PostgreSql;

/// <summary>
/// A <see cref="DocumentStore"/> in PostgreSQL: documents that outlive the process, shared by every node of a cluster connected to the
/// same database (and the same <see cref="PostgresDocumentStoreOptions.Schema"/> and <see cref="PostgresDocumentStoreOptions.TablePrefix"/>).
/// Registered with <c>AddPostgresDocumentStore</c>; see docs/stores.md.
/// </summary>
/// <remarks>
/// <para>The database settles races between nodes: a commit is one statement that moves the document's record only if it is still at
/// the operation's version, and writes the operation, the snapshot and the milestone from the moved row, so that the loser writes
/// nothing (and its node reads what won, transforms and retries: <see cref="DocumentOptions.MaxSubmitRetries"/>). The op log's primary
/// key (document, version) holds one operation per version.</para>
/// <para>Milestones keep their commit time (<see cref="StoredSnapshot.Time"/>, schema version 2), which
/// <see cref="DocumentOptions.Retention"/> trims the history by (<see cref="TrimAsync"/>, one statement too); the latest snapshot's time
/// is not kept.</para>
/// <para>A document's record keeps its <see cref="DocumentRecord.Incarnation"/> (schema version 3): the create's
/// (<see cref="DocumentCommit.Incarnation"/>), written when the commit at version 0 inserts the record, until the delete removes it;
/// records from before version 3 have none.</para>
/// <para>Connections come from an <see cref="NpgsqlDataSource"/> (Npgsql's pool, sized by the connection string's <c>Maximum Pool Size</c>);
/// each call takes one for a single statement and gives it back. Every call honours its <see cref="CancellationToken"/>.</para>
/// </remarks>
public sealed class PostgresDocumentStore : DocumentStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly PostgresStatements _sql;
    private readonly PostgresSchemaInitializer _schema;

    /// <summary>A store on the database of <paramref name="connectionString"/>, with the default options.</summary>
    /// <param name="connectionString">An Npgsql connection string, for example <c>Host=db;Database=app;Username=app;Password=…</c>.</param>
    public PostgresDocumentStore(string connectionString)
        : this(connectionString, null)
    {
    }

    /// <summary>A store on the database of <paramref name="connectionString"/>, with a connection pool of its own (released by
    /// <see cref="DisposeAsync"/>).</summary>
    /// <param name="connectionString">An Npgsql connection string, for example <c>Host=db;Database=app;Username=app;Password=…</c>.
    /// Unless it says otherwise, the store's statements are prepared automatically (<c>Max Auto Prepare=16</c>).</param>
    /// <param name="options">Where the tables are and whether the store creates them, or <see langword="null"/> for the defaults.</param>
    public PostgresDocumentStore(string connectionString, PostgresDocumentStoreOptions? options)
        : this(BuildDataSource(connectionString, null), ownsDataSource: true, options, null)
    {
    }

    /// <summary>A store on an <see cref="NpgsqlDataSource"/> the application owns (and disposes: the store does not).</summary>
    /// <param name="dataSource">Where connections come from.</param>
    /// <param name="options">Where the tables are and whether the store creates them, or <see langword="null"/> for the defaults.</param>
    public PostgresDocumentStore(NpgsqlDataSource dataSource, PostgresDocumentStoreOptions? options)
        : this(dataSource, ownsDataSource: false, options, null)
    {
    }

    internal PostgresDocumentStore(NpgsqlDataSource dataSource, bool ownsDataSource, PostgresDocumentStoreOptions? options, ILoggerFactory? loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        options ??= new PostgresDocumentStoreOptions();
        options.Validate();
        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
        _sql = new PostgresStatements(options);
        ILogger logger = (ILogger?)loggerFactory?.CreateLogger("Realtime.Server.PostgreSql") ?? NullLogger.Instance;
        _schema = new PostgresSchemaInitializer(dataSource, _sql, options, logger);
    }

    /// <summary>The schema script (the package's <c>content/Schema.sql</c>) for the names in <paramref name="options"/>: what the store runs
    /// when <see cref="PostgresDocumentStoreOptions.CreateSchema"/> is on, for teams that run it in their own migrations instead.</summary>
    /// <param name="options">The schema and table prefix, or <see langword="null"/> for the defaults.</param>
    /// <returns>SQL statements, each safe to run again; run on tables of an earlier schema version, they upgrade them in place.</returns>
    public static string GetSchemaScript(PostgresDocumentStoreOptions? options)
    {
        options ??= new PostgresDocumentStoreOptions();
        options.Validate();
        return PostgresStatements.Rename(PostgresStatements.ReadScript(), options);
    }

    /// <summary>Creates or upgrades the tables (when <see cref="PostgresDocumentStoreOptions.CreateSchema"/> is on) and checks their version now, instead
    /// of on the first read or write: to fail at startup rather than on the first document.</summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>Done when the tables can be used.</returns>
    /// <exception cref="InvalidOperationException">The tables are missing or of an older schema version (and not to be created), or of a
    /// newer one.</exception>
    public ValueTask InitializeAsync(CancellationToken cancellationToken = default) => _schema.EnsureReadyAsync(cancellationToken);

    /// <summary>Makes the tables ready (once), then runs a trivial statement: for the health check.</summary>
    internal async Task PingAsync(CancellationToken cancellationToken)
    {
        await _schema.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlCommand command = _dataSource.CreateCommand("SELECT 1");
        await using (command.ConfigureAwait(false))
        {
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public override async ValueTask<DocumentRecord?> GetRecordAsync(string documentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        await _schema.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlCommand command = Command(_sql.GetRecord, Text(documentId));
        await using (command.ConfigureAwait(false))
        {
            NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                    ? new DocumentRecord(reader.GetInt64(0), reader.GetString(1)) { Incarnation = reader.IsDBNull(2) ? null : reader.GetString(2) }
                    : null;
            }
        }
    }

    /// <inheritdoc/>
    public override async ValueTask<StoredSnapshot?> GetSnapshotAsync(string documentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        await _schema.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        return await ReadSnapshotAsync(Command(_sql.GetSnapshot, Text(documentId)), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override async ValueTask<IReadOnlyList<DocumentOperation>> GetOperationsAsync(string documentId, long from, long? to,
                                                                                           CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        await _schema.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlCommand command = Command(_sql.GetOperations, Text(documentId), Bigint(from), NullableBigint(to));
        var operations = new List<DocumentOperation>();
        await using (command.ConfigureAwait(false))
        {
            NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    operations.Add(ReadOperation(reader));
                }
            }
        }

        return operations;
    }

    /// <inheritdoc/>
    public override async ValueTask<DocumentOperation?> FindOperationAsync(string documentId, string source, long sequence,
                                                                           CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        ArgumentNullException.ThrowIfNull(source);
        await _schema.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlCommand command = Command(_sql.FindOperation, Text(documentId), Text(source), Bigint(sequence));
        await using (command.ConfigureAwait(false))
        {
            NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadOperation(reader) : null;
            }
        }
    }

    /// <inheritdoc/>
    public override async ValueTask<StoredSnapshot?> GetMilestoneAsync(string documentId, long version, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        await _schema.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        return await ReadSnapshotAsync(Command(_sql.GetMilestone, Text(documentId), Bigint(version)), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override async ValueTask<bool> CommitAsync(string documentId, DocumentCommit commit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        ArgumentNullException.ThrowIfNull(commit);
        DocumentOperation op = commit.Operation;
        if (op.Kind == DocumentOperationKind.Delete)
        {
            throw new ArgumentException("A delete erases the document: DeleteAsync.", nameof(commit));
        }

        await _schema.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        (string text, NpgsqlParameter[] parameters) = CommitStatement(documentId, commit);
        NpgsqlCommand command = Command(text, parameters);
        await using (command.ConfigureAwait(false))
        {
            try
            {
                return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! == 1;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                // The op log already holds an op at this version (a writer that wrote it another way): the version is taken, as when the
                // record moved, and nothing of this statement was written.
                return false;
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>One transaction: the commits go in one batch of statements after <c>BEGIN</c> (one round trip), each the compare-and-set of
    /// <see cref="CommitAsync"/>, then <c>COMMIT</c>: one durable flush for them all. If any is refused, the transaction is rolled back and
    /// none is written (a later one could otherwise follow another writer's op at the version the refused one wanted).</remarks>
    public override async ValueTask<int> CommitManyAsync(string documentId, IReadOnlyList<DocumentCommit> commits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        ArgumentNullException.ThrowIfNull(commits);
        if (commits.Count <= 1)
        {
            return commits.Count == 0 ? 0 : await CommitAsync(documentId, commits[0], cancellationToken).ConfigureAwait(false) ? 1 : 0;
        }

        if (commits.Any(c => c.Operation.Kind == DocumentOperationKind.Delete))
        {
            throw new ArgumentException("A delete erases the document: DeleteAsync.", nameof(commits));
        }

        await _schema.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlConnection connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var batch = new NpgsqlBatch(connection, transaction);
                await using (batch.ConfigureAwait(false))
                {
                    foreach (DocumentCommit commit in commits)
                    {
                        (string text, NpgsqlParameter[] parameters) = CommitStatement(documentId, commit);
                        var statement = new NpgsqlBatchCommand(text);
                        statement.Parameters.AddRange(parameters);
                        batch.BatchCommands.Add(statement);
                    }

                    int written = 0;
                    try
                    {
                        NpgsqlDataReader reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                        await using (reader.ConfigureAwait(false))
                        {
                            do
                            {
                                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false) && reader.GetInt64(0) == 1)
                                {
                                    written++;
                                }
                            }
                            while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));
                        }
                    }
                    catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
                    {
                        return 0; // as CommitAsync: the version is taken; the transaction is rolled back by its disposal
                    }

                    if (written < commits.Count)
                    {
                        await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                        return 0;
                    }

                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                    return written;
                }
            }
        }
    }

    /// <summary>A commit's statement and its parameters (see <see cref="PostgresStatements"/>).</summary>
    private (string Text, NpgsqlParameter[] Parameters) CommitStatement(string documentId, DocumentCommit commit)
    {
        DocumentOperation op = commit.Operation;
        (NpgsqlParameter names, NpgsqlParameter data) snapshot = Fragments(commit.Snapshot);
        (NpgsqlParameter names, NpgsqlParameter data) milestone = Fragments(commit.Milestone);
        NpgsqlParameter[] parameters =
        [
            Text(documentId), Bigint(op.Version), Text(commit.Type), NullableText(op.Source), Bigint(op.Sequence),
            new NpgsqlParameter<short> { TypedValue = (short)op.Kind }, Bytes(op.Payload),
            NullableBigint(commit.Snapshot?.Version), NullableText(commit.Snapshot?.Type), snapshot.names, snapshot.data,
            NullableBigint(commit.Milestone?.Version), NullableText(commit.Milestone?.Type), milestone.names, milestone.data,
            NullableTime(commit.Milestone?.Time),

            // The create inserts the record with its incarnation; a later commit moves the record only if it is of the same life.
            NullableText(commit.Incarnation),
        ];
        return (op.Version == 0 ? _sql.CommitFirst : _sql.CommitNext, parameters);
    }

    /// <inheritdoc/>
    public override async ValueTask<bool> DeleteAsync(string documentId, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        await _schema.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlCommand command = expectedVersion == 0
            ? Command(_sql.Absent, Text(documentId))
            : Command(_sql.Delete, Text(documentId), Bigint(expectedVersion));
        await using (command.ConfigureAwait(false))
        {
            object? result = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return result is true or 1L;
        }
    }

    /// <inheritdoc/>
    /// <remarks>One statement: it finds the milestone among this document's only, by the milestones' primary key, and deletes by the
    /// primary keys of the op log and the milestone tables. A commit on the same document at the same time neither waits for it nor
    /// loses anything to it (the trim removes rows below a committed milestone; a commit writes at and above the record's version).
    /// Milestone times are kept to the microsecond (<c>timestamptz</c>), the rest dropped; milestones written under schema version 1
    /// have none, and are never old enough.</remarks>
    public override async ValueTask<long?> TrimAsync(string documentId, DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        await _schema.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlCommand command = Command(_sql.Trim, Text(documentId), NullableTime(before));
        await using (command.ConfigureAwait(false))
        {
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long version ? version : null;
        }
    }

    /// <summary>Releases the connection pool, when the store made it from a connection string.</summary>
    /// <returns>Done when released.</returns>
    public async ValueTask DisposeAsync()
    {
        _schema.Dispose();
        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The data source of a connection string, with the store's logging and, unless the string sets it, automatic preparation.</summary>
    internal static NpgsqlDataSource BuildDataSource(string connectionString, ILoggerFactory? loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        if (!connectionString.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase) && !connectionString.Contains("AutoPrepare", StringComparison.OrdinalIgnoreCase))
        {
            // The store runs a handful of statements over and over: prepared once per physical connection, they skip parsing and planning.
            builder.ConnectionStringBuilder.MaxAutoPrepare = 16;
        }

        if (loggerFactory is not null)
        {
            builder.UseLoggerFactory(loggerFactory);
        }

        return builder.Build();
    }

    private NpgsqlCommand Command(string text, params NpgsqlParameter[] parameters)
    {
        NpgsqlCommand command = _dataSource.CreateCommand(text);
        command.Parameters.AddRange(parameters);
        return command;
    }

    private static async Task<StoredSnapshot?> ReadSnapshotAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using (command.ConfigureAwait(false))
        {
            NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                // One row per fragment (the left join gives one row with a null name when there is none).
                (long Version, string Type, DateTimeOffset? Time)? header = null;
                var fragments = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    header ??= (reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4));
                    if (!reader.IsDBNull(2))
                    {
                        fragments[reader.GetString(2)] = reader.GetFieldValue<byte[]>(3);
                    }
                }

                return header is { } found ? new StoredSnapshot(found.Version, found.Type, fragments) { Time = found.Time } : null;
            }
        }
    }

    private static DocumentOperation ReadOperation(NpgsqlDataReader reader)
        => new(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetInt64(2), (DocumentOperationKind)reader.GetInt16(3),
               reader.GetFieldValue<byte[]>(4));
}
