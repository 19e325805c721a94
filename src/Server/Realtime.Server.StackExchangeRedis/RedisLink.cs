using StackExchange.Redis;

namespace Realtime.Server.StackExchangeRedis;

/// <summary>
/// The backplane's one connection to Redis (a command link and a subscriber link, as StackExchange.Redis makes them), made on first use
/// and reconnected by StackExchange.Redis itself. Every operation goes through <see cref="RunAsync"/>: bounded by
/// <see cref="RedisBackplaneOptions.PublishTimeout"/>, and any failure surfaces as a <see cref="RedisBackplaneException"/>.
/// </summary>
internal sealed class RedisLink : IAsyncDisposable
{
    private readonly ConfigurationOptions _configuration;
    private readonly Lazy<Task<ConnectionMultiplexer>> _redis;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationToken _stoppingToken;
    private readonly Func<ConnectionMultiplexer, Task> _connected;
    private readonly Action<ConnectionType> _restored;

    /// <param name="configuration">The connection's configuration (already adjusted by <c>ForBackplane</c>).</param>
    /// <param name="timeout">How long one operation may take.</param>
    /// <param name="connected">Runs once the first connection is made (subscriptions of the node's own, the heartbeat).</param>
    /// <param name="restored">Runs each time a link (the command link, or the subscriber link) is restored after a break.</param>
    public RedisLink(ConfigurationOptions configuration, TimeSpan timeout, Func<ConnectionMultiplexer, Task> connected, Action<ConnectionType> restored)
    {
        _configuration = configuration;
        Timeout = timeout;
        _stoppingToken = _stopping.Token; // kept: it stays readable once the source is disposed
        _connected = connected;
        _restored = restored;
        _redis = new Lazy<Task<ConnectionMultiplexer>>(ConnectAsync);
    }

    /// <summary>How long one operation may take (<see cref="RedisBackplaneOptions.PublishTimeout"/>).</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Cancelled when the backplane stops.</summary>
    public CancellationToken Stopping => _stoppingToken;

    /// <summary>The connection when it has been made, without waiting for it; <see langword="null"/> before, or when it failed.</summary>
    public ConnectionMultiplexer? Current => _redis.IsValueCreated && _redis.Value.IsCompletedSuccessfully ? _redis.Value.Result : null;

    /// <summary>The connection, made on first use, within the timeout.</summary>
    /// <exception cref="RedisException">It could not be made.</exception>
    /// <exception cref="TimeoutException">It was not made within the timeout.</exception>
    public Task<ConnectionMultiplexer> GetAsync(CancellationToken cancellationToken) => _redis.Value.WaitAsync(Timeout, cancellationToken);

    /// <summary>Runs one Redis operation within the timeout; any failure is a <see cref="RedisBackplaneException"/>.</summary>
    /// <param name="operation">The operation.</param>
    /// <param name="what">What it does, for the exception's message ("publish a broadcast").</param>
    /// <param name="cancellationToken">Cancels waiting for it (the operation itself may still run in Redis).</param>
    public async Task<T> RunAsync<T>(Func<ConnectionMultiplexer, Task<T>> operation, string what, CancellationToken cancellationToken)
    {
        try
        {
            ConnectionMultiplexer redis = await GetAsync(cancellationToken).ConfigureAwait(false);
            return await operation(redis).WaitAsync(Timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new RedisBackplaneException($"Redis did not answer within {Timeout} (RedisBackplaneOptions.PublishTimeout) to {what}.", ex);
        }
        catch (RedisException ex)
        {
            throw new RedisBackplaneException($"Redis failed to {what}: {ex.Message}", ex);
        }
    }

    /// <summary>Cancels what waits on <see cref="Stopping"/> (the heartbeat ends).</summary>
    public Task StopAsync() => _stopping.CancelAsync();

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (Current is { } redis)
        {
            await redis.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        ConnectionMultiplexer redis = await ConnectionMultiplexer.ConnectAsync(_configuration).ConfigureAwait(false);
        redis.ConnectionRestored += (_, e) => _restored(e.ConnectionType);
        await _connected(redis).ConfigureAwait(false);
        return redis;
    }
}
