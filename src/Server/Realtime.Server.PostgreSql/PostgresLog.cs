using Microsoft.Extensions.Logging;

namespace Realtime.Server.PostgreSql;

/// <summary>What the PostgreSQL document store logs (category <c>Realtime.Server.PostgreSql</c>). Never a document's content.</summary>
internal static partial class PostgresLog
{
    [LoggerMessage(1, LogLevel.Information, "The document tables in schema {Schema} (prefix {TablePrefix}) are at version {Version}.", EventName = "DocumentSchemaReady")]
    public static partial void SchemaReady(ILogger logger, string schema, string tablePrefix, int version);

    [LoggerMessage(2, LogLevel.Error, "The document tables in schema {Schema} (prefix {TablePrefix}) cannot be used: {Reason}", EventName = "DocumentSchemaUnusable")]
    public static partial void SchemaUnusable(ILogger logger, string schema, string tablePrefix, string reason);
}
