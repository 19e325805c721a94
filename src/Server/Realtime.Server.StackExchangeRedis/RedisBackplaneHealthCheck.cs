using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Realtime.Server.StackExchangeRedis;

/// <summary>
/// Degraded while the backplane cannot do its work: Redis unreachable, the last heartbeat failed, or this node's own probe did not come
/// back over its subscriber link (a wedged pub/sub connection delivers nothing while looking connected). Healthy otherwise.
/// </summary>
internal sealed class RedisBackplaneHealthCheck(RealtimeBackplane backplane) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (backplane is not RedisBackplane redis)
        {
            return HealthCheckResult.Healthy("The Redis backplane is not in use.");
        }

        string? problem = await redis.ProblemAsync(cancellationToken).ConfigureAwait(false);
        return problem is null ? HealthCheckResult.Healthy("Redis backplane connected.") : new HealthCheckResult(context.Registration.FailureStatus, problem);
    }
}
