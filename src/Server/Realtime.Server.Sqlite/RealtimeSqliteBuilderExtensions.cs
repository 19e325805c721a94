using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Realtime.Server;
using Realtime.Server.Sqlite;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the SQLite document store to Realtime.</summary>
public static class RealtimeSqliteBuilderExtensions
{
    /// <summary>
    /// Keeps the app's shared documents in the SQLite file at <paramref name="path"/>, so that they survive a restart: registers a
    /// <see cref="SqliteDocumentStore"/> as the application's <see cref="DocumentStore"/> (replacing one registered before), which
    /// <c>UseDocuments</c> takes unless <c>DocumentOptions.Store</c> names another. For one server; see docs/stores.md.
    /// </summary>
    /// <param name="builder">What <c>AddRealtime</c> returned.</param>
    /// <param name="path">The file; a relative path is taken from the app's content root (else the current directory). Its directory is
    /// created when missing. The file is opened, and created or migrated, when the store is first needed (when the app starts).</param>
    /// <returns>The builder, for chaining.</returns>
    /// <example><code>builder.Services.AddRealtime().AddSqliteDocumentStore("data/documents.db");</code></example>
    public static IRealtimeBuilder AddSqliteDocumentStore(this IRealtimeBuilder builder, string path) => builder.AddSqliteDocumentStore(path, null);

    /// <summary>Keeps the app's shared documents in the SQLite file at <paramref name="path"/>, with the store's options set by <paramref name="configure"/>.</summary>
    /// <param name="builder">What <c>AddRealtime</c> returned.</param>
    /// <param name="path">The file; a relative path is taken from the app's content root (else the current directory).</param>
    /// <param name="configure">Sets the store's options (how durable a commit is), or <see langword="null"/> for the defaults.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <example><code>builder.Services.AddRealtime().AddSqliteDocumentStore("data/documents.db", o => o.Synchronous = SqliteSynchronous.Normal);</code></example>
    public static IRealtimeBuilder AddSqliteDocumentStore(this IRealtimeBuilder builder, string path, Action<SqliteDocumentStoreOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var options = new SqliteDocumentStoreOptions();
        configure?.Invoke(options);
        builder.Services.RemoveAll<DocumentStore>();
        builder.Services.AddSingleton<DocumentStore>(services =>
        {
            string? root = services.GetService<IHostEnvironment>()?.ContentRootPath;
            string file = root is { Length: > 0 } ? Path.GetFullPath(path, root) : Path.GetFullPath(path);
            return new SqliteDocumentStore(file, options, services.GetService<ILoggerFactory>());
        });
        return builder;
    }
}
