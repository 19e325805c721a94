using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Realtime.TestSupport;
using StackExchange.Redis;

namespace Realtime.Server.StackExchangeRedis.Tests;

/// <summary>The backplane specification on two Kestrel nodes in this process that share a real redis-server.</summary>
[RequiresRedisServer]
public sealed class RedisBackplaneSpecificationTests : RealtimeBackplaneSpecification, IAsyncLifetime
{
    private RedisServer? _redis;

    protected override int NodeCount => 2;

    async Task IAsyncLifetime.InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        await InitializeAsync();
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        try
        {
            await DisposeAsync();
        }
        finally
        {
            if (_redis is not null)
            {
                await _redis.DisposeAsync();
            }
        }
    }

    protected override void AddBackplane(IServiceCollection services, int node)
    {
        ConfigurationOptions configuration = Microsoft.Extensions.DependencyInjection.RealtimeRedisBuilderExtensions.ForBackplane(ConfigurationOptions.Parse(_redis!.Configuration));
        services.AddSingleton<RealtimeBackplane>(sp => new RedisBackplane(configuration, new RedisBackplaneOptions { Prefix = "spec" }, sp.GetService<ILoggerFactory>()));
    }
}
