using Realtime.TestSupport;

namespace Realtime.Server.PostgreSql.Tests;

/// <summary>One redis-server for a test class.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private RedisServer? _redis;

    public string Configuration => (_redis ?? throw new InvalidOperationException(RedisServer.Missing)).Configuration;

    public async Task InitializeAsync()
    {
        if (RedisServer.SkipReason is null && PostgresServer.SkipReason is null)
        {
            _redis = await RedisServer.StartAsync();
        }
    }

    public async Task DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }
}

/// <summary>Skips a test class where PostgreSQL or redis-server is absent (and CI does not require them).</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RequiresPostgresAndRedisAttribute : Attribute, ISkipCondition
{
    public string? SkipReason => PostgresServer.SkipReason ?? RedisServer.SkipReason;
}
