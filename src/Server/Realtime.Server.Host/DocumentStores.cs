using Realtime.Server;
using Realtime.Server.Sqlite;

/// <summary>
/// Where the host keeps shared documents (docs/stores.md): in a SQLite file by default, <c>data/documents.db</c> under the content
/// root unless <c>Realtime:Documents:Sqlite</c> names another file (its directory is created); <c>Realtime:Documents:Store</c> =
/// <c>memory</c> keeps them in this process's memory instead (gone at a restart), and <c>postgres</c> in the PostgreSQL database of
/// the connection string <c>Realtime:Documents:Postgres</c> (what nodes behind a load balancer share; setting that string alone
/// chooses it). <c>Realtime:Documents:Synchronous</c> = <c>Normal</c>
/// trades safety against a power loss for faster commits (the default, <c>Full</c>, flushes each commit to the disk).
/// </summary>
internal static class DocumentStores
{
    internal const string StoreKey = "Realtime:Documents:Store";

    internal const string SqlitePathKey = "Realtime:Documents:Sqlite";

    internal const string SynchronousKey = "Realtime:Documents:Synchronous";

    internal const string PostgresKey = "Realtime:Documents:Postgres";

    /// <summary>The SQLite file when <see cref="SqlitePathKey"/> is not set, relative to the content root.</summary>
    internal const string DefaultSqlitePath = "data/documents.db";

    /// <summary>Registers the configured store as the app's <see cref="DocumentStore"/> (none for <c>memory</c>: UseDocuments' own).</summary>
    public static void Add(WebApplicationBuilder builder, IRealtimeBuilder realtime)
    {
        string? postgres = builder.Configuration[PostgresKey] is { Length: > 0 } connection ? connection : null;
        string store = builder.Configuration[StoreKey] is { Length: > 0 } configured ? configured : postgres is null ? "sqlite" : "postgres";
        switch (store.ToUpperInvariant())
        {
            case "MEMORY":
                return;
            case "POSTGRES":
                realtime.AddPostgresDocumentStore(postgres ?? throw new InvalidOperationException($"{StoreKey} is '{store}': set {PostgresKey} to the connection string."));
                return;
            case "SQLITE":
                string path = builder.Configuration[SqlitePathKey] is { Length: > 0 } file ? file : DefaultSqlitePath;
                SqliteSynchronous synchronous = builder.Configuration[SynchronousKey] is { Length: > 0 } value
                    ? Enum.TryParse(value, ignoreCase: true, out SqliteSynchronous parsed) && Enum.IsDefined(parsed)
                        ? parsed
                        : throw new InvalidOperationException($"{SynchronousKey} is '{value}': Full (the default) or Normal.")
                    : SqliteSynchronous.Full;
                realtime.AddSqliteDocumentStore(path, options => options.Synchronous = synchronous); // relative: from the content root
                return;
            default:
                throw new InvalidOperationException($"{StoreKey} is '{store}': sqlite (the default), memory or postgres.");
        }
    }

    /// <summary>
    /// Opens the registered store now, so that a file the host cannot use (a directory it may not write, a schema from a newer
    /// release) stops it at startup with the reason, rather than failing every document request later.
    /// </summary>
    public static void OpenAtStartup(WebApplication app) => app.Services.GetService<DocumentStore>();
}
