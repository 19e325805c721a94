using Microsoft.Extensions.Logging;
using Npgsql;

namespace Realtime.Server.PostgreSql;

/// <summary>
/// Makes the store's tables ready before its first read or write: creates or upgrades them (when <see cref="PostgresDocumentStoreOptions.CreateSchema"/>
/// is on) in one transaction under an advisory lock, then checks the schema's version. Done once; a failure is tried again by the next call.
/// </summary>
internal sealed class PostgresSchemaInitializer(NpgsqlDataSource dataSource, PostgresStatements sql, PostgresDocumentStoreOptions options, ILogger logger)
    : IDisposable
{
    // The advisory lock every node takes while it creates the tables ("Realtime" in ASCII): CREATE TABLE IF NOT EXISTS is not safe
    // against a concurrent CREATE of the same table.
    private const long SchemaLockKey = 0x5265616c74696d65;

    private const string UndefinedTable = "42P01";
    private const string InvalidSchemaName = "3F000";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile bool _ready;

    public ValueTask EnsureReadyAsync(CancellationToken cancellationToken) => _ready ? default : InitializeAsync(cancellationToken);

    public void Dispose() => _gate.Dispose();

    private async ValueTask InitializeAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_ready)
            {
                return;
            }

            if (options.CreateSchema)
            {
                await CreateAsync(cancellationToken).ConfigureAwait(false);
            }

            int version = await ReadVersionAsync(cancellationToken).ConfigureAwait(false);
            PostgresLog.SchemaReady(logger, options.Schema, options.TablePrefix, version);
            _ready = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task CreateAsync(CancellationToken cancellationToken)
    {
        NpgsqlConnection connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                await ExecuteAsync(connection, "SELECT pg_advisory_xact_lock($1)", SchemaLockKey, cancellationToken).ConfigureAwait(false);

                // CREATE SCHEMA needs the right to create in the database even when the schema exists: only when it is missing.
                bool schemaExists;
                await using (NpgsqlCommand exists = new("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", connection))
                {
                    exists.Parameters.Add(new NpgsqlParameter<string> { TypedValue = options.Schema });
                    schemaExists = (bool)(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
                }

                if (!schemaExists)
                {
                    await ExecuteAsync(connection, $"CREATE SCHEMA IF NOT EXISTS {options.Schema}", null, cancellationToken).ConfigureAwait(false);
                }

                await ExecuteAsync(connection, sql.Script, null, cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<int> ReadVersionAsync(CancellationToken cancellationToken)
    {
        object? version;
        try
        {
            NpgsqlCommand command = dataSource.CreateCommand(sql.ReadVersion);
            await using (command.ConfigureAwait(false))
            {
                version = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (PostgresException e) when (e.SqlState is UndefinedTable or InvalidSchemaName)
        {
            throw Unusable($"{e.MessageText}. Create the tables: run the script of PostgresDocumentStore.GetSchemaScript (the package's content/Schema.sql for the default names) in your migrations, or set PostgresDocumentStoreOptions.CreateSchema to true.", e);
        }

        return version switch
        {
            int current when current == PostgresStatements.SchemaVersion => current,
            int newer when newer > PostgresStatements.SchemaVersion
                => throw Unusable($"their schema version is {newer}, newer than this store's ({PostgresStatements.SchemaVersion}): update Realtime.Server.PostgreSql.", null),
            _ => throw Unusable($"{sql.VersionTable} holds no schema version {PostgresStatements.SchemaVersion}: run the schema script again.", null),
        };
    }

    private InvalidOperationException Unusable(string reason, Exception? inner)
    {
        PostgresLog.SchemaUnusable(logger, options.Schema, options.TablePrefix, reason);
        return new InvalidOperationException($"The PostgreSQL document store's tables in schema {options.Schema} (prefix \"{options.TablePrefix}\") cannot be used: {reason}", inner);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string text, long? argument, CancellationToken cancellationToken)
    {
        NpgsqlCommand command = new(text, connection);
        await using (command.ConfigureAwait(false))
        {
            if (argument is { } value)
            {
                command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = value });
            }

            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
