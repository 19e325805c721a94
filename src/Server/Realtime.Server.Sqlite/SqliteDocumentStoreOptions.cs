namespace Realtime.Server.Sqlite;

/// <summary>Settings of a <see cref="SqliteDocumentStore"/>.</summary>
public sealed class SqliteDocumentStoreOptions
{
    /// <summary>
    /// How durable a commit is before it returns (and the op is acknowledged): <see cref="SqliteSynchronous.Full"/> by default,
    /// which survives a power loss; <see cref="SqliteSynchronous.Normal"/> survives a crash of the process only, and is faster.
    /// </summary>
    public SqliteSynchronous Synchronous { get; set; } = SqliteSynchronous.Full;
}
