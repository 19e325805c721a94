using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Realtime.Server;
using Realtime.Server.PostgreSql;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Keeps Realtime's shared documents in PostgreSQL.</summary>
public static class RealtimePostgresBuilderExtensions
{
    /// <summary>Keeps shared documents in PostgreSQL with the default <see cref="PostgresDocumentStoreOptions"/> (tables
    /// <c>public.realtime_*</c>, created on first use).</summary>
    /// <param name="builder">What <c>AddRealtime</c> returned.</param>
    /// <param name="connectionString">An Npgsql connection string, for example <c>Host=db;Database=app;Username=app;Password=…</c>.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <example><code>builder.Services.AddRealtime().AddPostgresDocumentStore(builder.Configuration.GetConnectionString("documents")!);</code></example>
    public static IRealtimeBuilder AddPostgresDocumentStore(this IRealtimeBuilder builder, string connectionString)
        => builder.AddPostgresDocumentStore(connectionString, null);

    /// <summary>
    /// Keeps shared documents in PostgreSQL: registers a <see cref="PostgresDocumentStore"/> as the application's
    /// <see cref="DocumentStore"/> (replacing any registered before), which <c>UseDocuments</c> takes unless
    /// <see cref="DocumentOptions.Store"/> names another. Nodes of a cluster on the same database and tables share their documents; with the
    /// Redis backplane their subscribers get every op. Adds the health check <c>realtime-postgres</c>: degraded while the database cannot be
    /// reached or its tables cannot be used. See docs/stores.md.
    /// </summary>
    /// <param name="builder">What <c>AddRealtime</c> returned.</param>
    /// <param name="connectionString">An Npgsql connection string. The store pools its connections (the string's <c>Maximum Pool Size</c>,
    /// 100 by default) and releases them when the application stops.</param>
    /// <param name="configure">Sets the store's options (schema, table prefix, whether it creates its tables), or <see langword="null"/>
    /// for the defaults.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <example><code>builder.Services.AddRealtime().AddPostgresDocumentStore(connectionString, o => o.CreateSchema = false);</code></example>
    public static IRealtimeBuilder AddPostgresDocumentStore(this IRealtimeBuilder builder, string connectionString, Action<PostgresDocumentStoreOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        var options = new PostgresDocumentStoreOptions();
        configure?.Invoke(options);
        options.Validate();
        builder.Services.RemoveAll<DocumentStore>();
        builder.Services.AddSingleton<DocumentStore>(sp =>
        {
            ILoggerFactory? loggerFactory = sp.GetService<ILoggerFactory>();
            return new PostgresDocumentStore(PostgresDocumentStore.BuildDataSource(connectionString, loggerFactory), ownsDataSource: true, options, loggerFactory);
        });

        // Degraded (not unhealthy: the node still serves its rooms) while the database cannot be reached or its tables cannot be used.
        builder.Services.AddHealthChecks().AddCheck<PostgresDocumentStoreHealthCheck>("realtime-postgres", HealthStatus.Degraded);
        return builder;
    }
}
