using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace Realtime.Server.Sqlite;

/// <summary>
/// The store's connections: one per call in progress, each taken from the idle ones or opened (and configured once: its
/// <c>synchronous</c> setting), and kept idle afterwards, up to <see cref="MaxIdle"/>. A connection whose call failed is closed
/// rather than reused. Microsoft.Data.Sqlite's own pool is off: this one also keeps each connection's prepared commands.
/// </summary>
internal sealed class SqliteSessionPool : IDisposable
{
    private readonly ConcurrentQueue<SqliteSession> _idle = new();
    private readonly string _connectionString;
    private readonly string _synchronous;
    private int _idleCount;
    private volatile bool _disposed;

    public SqliteSessionPool(string path, SqliteSynchronous synchronous)
    {
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = false,
        }.ToString();
        _synchronous = synchronous switch
        {
            SqliteSynchronous.Normal => "NORMAL",
            SqliteSynchronous.Full => "FULL",
            _ => throw new ArgumentOutOfRangeException(nameof(synchronous), synchronous, "SqliteSynchronous.Normal or Full."),
        };
    }

    /// <summary>How many open connections are kept for the next calls.</summary>
    public static int MaxIdle { get; } = Math.Max(4, Environment.ProcessorCount);

    /// <summary>A connection for one call; give it back with <see cref="Return"/>, or <see cref="Discard"/> it when the call failed.</summary>
    public SqliteSession Rent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_idle.TryDequeue(out SqliteSession? session))
        {
            Interlocked.Decrement(ref _idleCount);
            return session;
        }

        return Open();
    }

    public void Return(SqliteSession session)
    {
        if (_disposed)
        {
            session.Dispose();
            return;
        }

        if (Interlocked.Increment(ref _idleCount) > MaxIdle)
        {
            Interlocked.Decrement(ref _idleCount);
            session.Dispose();
            return;
        }

        _idle.Enqueue(session);
        if (_disposed)
        {
            Drain(); // disposed meanwhile: close what is idle now
        }
    }

    public static void Discard(SqliteSession session) => session.Dispose();

    /// <summary>A connection opened on the file: <c>synchronous</c> is per connection (WAL mode is the file's, set once by the schema step).</summary>
    public SqliteSession Open()
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            using SqliteCommand command = connection.CreateCommand();
            command.CommandText = "PRAGMA synchronous = " + _synchronous; // one of two constants: a pragma takes no bound parameter
            command.ExecuteNonQuery();
            return new SqliteSession(connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _disposed = true;
        Drain();
    }

    private void Drain()
    {
        while (_idle.TryDequeue(out SqliteSession? session))
        {
            Interlocked.Decrement(ref _idleCount);
            session.Dispose();
        }
    }
}
