using Microsoft.Extensions.Logging;

namespace Realtime.Server.Sqlite;

/// <summary>What the SQLite document store logs (category <c>Realtime.Server.Sqlite.SqliteDocumentStore</c>). Never a document's content.</summary>
internal static partial class SqliteStoreLog
{
    [LoggerMessage(1, LogLevel.Information, "Documents are kept in {Path} (SQLite {SqliteVersion}, schema version {SchemaVersion}, WAL, synchronous {Synchronous}).",
                   EventName = "SqliteStoreOpened")]
    public static partial void Opened(ILogger logger, string path, string sqliteVersion, long schemaVersion, SqliteSynchronous synchronous);

    [LoggerMessage(2, LogLevel.Information, "The document store {Path} was migrated from schema version {From} to {To}.", EventName = "SqliteStoreMigrated")]
    public static partial void Migrated(ILogger logger, string path, long from, long to);

    [LoggerMessage(3, LogLevel.Information, "The document store {Path} was created (schema version {SchemaVersion}).", EventName = "SqliteStoreCreated")]
    public static partial void Created(ILogger logger, string path, long schemaVersion);
}
