using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Realtime.Server.PostgreSql;

/// <summary>
/// Degraded while the PostgreSQL document store cannot serve documents: the database unreachable, or its tables missing or of a newer
/// schema. Healthy otherwise (the node's rooms work either way).
/// </summary>
internal sealed class PostgresDocumentStoreHealthCheck(DocumentStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (store is not PostgresDocumentStore postgres)
        {
            return HealthCheckResult.Healthy("The PostgreSQL document store is not in use.");
        }

        try
        {
            await postgres.PingAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy("PostgreSQL document store reachable.");
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException or TimeoutException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "The PostgreSQL document store cannot be used: " + e.Message, e);
        }
    }
}
