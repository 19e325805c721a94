using Npgsql;

namespace Realtime.Server.PostgreSql.Tests;

/// <summary>One PostgreSQL server for every test of the collection; each test keeps its tables in a schema of its own.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresServer? _server;
    private int _schemas;

    public PostgresServer Server => _server ?? throw new InvalidOperationException(PostgresServer.Missing);

    public string ConnectionString => Server.ConnectionString;

    /// <summary>A schema name no other test uses.</summary>
    public string NewSchema() => "test" + Interlocked.Increment(ref _schemas).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A store on a schema of its own (created by the store), or on <paramref name="schema"/>.</summary>
    public PostgresDocumentStore NewStore(string? schema = null, bool createSchema = true)
        => new(ConnectionString, new PostgresDocumentStoreOptions { Schema = schema ?? NewSchema(), CreateSchema = createSchema });

    /// <summary>Runs SQL on the server (to look at what a store wrote, or to make tables of an older schema).</summary>
    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The first value SQL gives.</summary>
    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task InitializeAsync()
    {
        if (PostgresServer.SkipReason is null)
        {
            _server = await PostgresServer.StartAsync();
        }
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "PostgreSQL";
}
