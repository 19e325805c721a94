using Microsoft.Data.Sqlite;

namespace Realtime.Server.Sqlite;

/// <summary>
/// One open connection of the store's pool, with its commands kept prepared (a command is compiled by SQLite once per connection,
/// not once per call). Used by one call at a time: SQLite connections are not thread-safe.
/// </summary>
internal sealed class SqliteSession : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    public SqliteSession(SqliteConnection connection) => Connection = connection;

    public SqliteConnection Connection { get; }

    /// <summary>The command for <paramref name="sql"/> on this connection, its parameters cleared, in <paramref name="transaction"/>.</summary>
    /// <param name="sql">One of the store's statements (constant text; every value is a bound parameter).</param>
    /// <param name="transaction">The transaction in progress on this connection, if any.</param>
    public SqliteCommand Command(string sql, SqliteTransaction? transaction = null)
    {
        if (!_commands.TryGetValue(sql, out SqliteCommand? command))
        {
            command = Connection.CreateCommand();
            command.CommandText = sql;
            _commands.Add(sql, command);
        }

        command.Parameters.Clear();
        command.Transaction = transaction;
        return command;
    }

    public void Dispose()
    {
        foreach (SqliteCommand command in _commands.Values)
        {
            command.Dispose();
        }

        _commands.Clear();
        Connection.Dispose();
    }
}
