using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Realtime.Client;
using Realtime.Testing;
using Realtime.TestSupport;
using StackExchange.Redis;

namespace Realtime.Server.StackExchangeRedis.Tests;

/// <summary>A real redis-server for each test, nodes on it, and members connected to them; everything started is stopped after the test.</summary>
public abstract class RedisClusterTest : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _owned = [];

    protected RedisServer Redis { get; set; } = null!;

    /// <summary>A connection to the test's Redis with admin commands, for looking and for faults.</summary>
    protected ConnectionMultiplexer Inspector { get; private set; } = null!;

    protected void Own(IAsyncDisposable disposable) => _owned.Add(disposable);

    public async Task InitializeAsync()
    {
        if (RedisServer.SkipReason is not null)
        {
            return;
        }

        Redis = await RedisServer.StartAsync();
        Inspector = await ConnectionMultiplexer.ConnectAsync(Redis.Configuration + ",allowAdmin=true");
    }

    /// <summary>Stops everything the test started, newest first; the redis-server process is stopped even when something before it fails to.</summary>
    public async Task DisposeAsync()
    {
        try
        {
            for (int i = _owned.Count - 1; i >= 0; i--)
            {
                await _owned[i].DisposeAsync();
            }
        }
        finally
        {
            if (Inspector is not null)
            {
                await Inspector.DisposeAsync();
            }

            if (Redis is not null)
            {
                await Redis.DisposeAsync();
            }
        }
    }

    /// <summary>Restarts the test's redis-server on its port: empty, or from the snapshot a <c>SAVE</c> left in <paramref name="dataDirectory"/>.</summary>
    protected async Task RestartRedisAsync(string? dataDirectory = null)
    {
        int port = Redis.Port;
        await Redis.DisposeAsync();
        Redis = await RedisServer.StartAsync(port, dataDirectory);
    }

    /// <summary>Restarts the test's redis-server with a data directory of its own (deleted after the test), and returns it.</summary>
    protected async Task<string> RestartRedisWithDataAsync()
    {
        var data = Directory.CreateTempSubdirectory("realtime-redis-");
        Own(new DeletedAfter(data));
        await RestartRedisAsync(data.FullName);
        return data.FullName;
    }

    /// <summary>Two nodes on the test's Redis, and a member of <c>room1</c> on each.</summary>
    protected async Task<(RealtimeTestHost A, RealtimeTestHost B, ConnectionRecorder OnA, ConnectionRecorder OnB)> TwoMembersAsync(string prefix, TimeSpan publishTimeout,
                                                                                                                                    TimeSpan? heartbeat = null, TimeSpan? nodeTimeout = null)
    {
        RealtimeTestHost a = await StartNodeAsync(prefix, publishTimeout: publishTimeout, heartbeat: heartbeat, nodeTimeout: nodeTimeout);
        RealtimeTestHost b = await StartNodeAsync(prefix, publishTimeout: publishTimeout, heartbeat: heartbeat, nodeTimeout: nodeTimeout);
        return (a, b, await ConnectAsync(a, "room1"), await ConnectAsync(b, "room1"));
    }

    protected static async Task BroadcastUntilReceivedAsync(RealtimeTestHost from, ConnectionRecorder to, string type)
    {
        var clock = Stopwatch.StartNew();
        int attempt = 0;
        while (!to.Events.Contains("message:" + type))
        {
            Assert.True(clock.Elapsed < TaskTimeoutExtensions.DefaultTimeoutSpan, $"cross-node traffic did not resume ({type})");
            try
            {
                await from.Server.BroadcastAsync("room1", ++attempt, type);
            }
            catch (RedisBackplaneException)
            {
                // Not reconnected yet.
            }

            // The event is awaited; the delay only caps the wait before the next attempt, since this one may have been lost.
            await Task.WhenAny(to.WaitForEventAsync("message:" + type), Task.Delay(100)); // sleep-ok: a cap on awaiting the event, see above
        }
    }

    protected async Task<ConnectionRecorder> ConnectWithRetryAsync(RealtimeTestHost node, string roomId)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await ConnectAsync(node, roomId);
            }
            catch (Exception) when (clock.Elapsed < TaskTimeoutExtensions.DefaultTimeoutSpan)
            {
                // Redis is still being reconnected to: the join was refused with 1011; the next attempt may pass.
            }
        }
    }

    protected async Task<RealtimeTestHost> StartNodeAsync(string prefix, TimeSpan? publishTimeout = null, TimeSpan? heartbeat = null, TimeSpan? nodeTimeout = null,
                                                         string? configuration = null, Action<RealtimeOptions>? configureOptions = null, int? historySize = null,
                                                         bool presence = false)
    {
        RealtimeTestHost host = await RealtimeTestHost.StartAppAsync(builder =>
        {
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Services.AddRealtime(configureOptions).AddStackExchangeRedis(configuration ?? Redis.Configuration, o =>
            {
                o.Prefix = prefix;
                o.PublishTimeout = publishTimeout ?? o.PublishTimeout;
                o.HeartbeatInterval = heartbeat ?? o.HeartbeatInterval;
                o.NodeTimeout = nodeTimeout ?? o.NodeTimeout;
                o.HistorySize = historySize ?? o.HistorySize;
            });
        }, app =>
        {
            app.MapRealtime(RealtimeTestHost.DefaultPath, s =>
            {
                if (presence)
                {
                    s.UsePresence();
                }

                s.On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message));
            });
            app.MapHealthChecks("/healthz");
        }).DefaultTimeout("a node to start");
        _owned.Add(host);
        return host;
    }

    protected async Task<ConnectionRecorder> ConnectAsync(RealtimeTestHost node, string roomId)
    {
        var client = new Client.Client(node.Url.ToString());
        Connection connection = await client.ConnectAsync(roomId).DefaultTimeout("a member to connect");
        _owned.Add(connection);
        return new ConnectionRecorder(connection);
    }

    protected async Task<long> SubscribersAsync(string channel)
    {
        RedisResult result = await Inspector.GetDatabase().ExecuteAsync("PUBSUB", "NUMSUB", channel);
        return (long)((RedisResult[])result!)[1];
    }

    protected async Task<long> PublishCountAsync()
    {
        string info = (await Inspector.GetServer(Redis.Configuration).InfoRawAsync("commandstats"))!;
        string? line = info.Split('\n').FirstOrDefault(l => l.StartsWith("cmdstat_publish:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(':')[1].Split(',')[0].Split('=')[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    protected static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > TaskTimeoutExtensions.DefaultTimeoutSpan)
            {
                throw new TimeoutException("Timed out waiting for " + what);
            }

            await Task.Delay(20); // sleep-ok: Redis's state has no change notification to await; polled, and bounded by the deadline above
        }
    }

    private sealed class DeletedAfter(DirectoryInfo directory) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            directory.Delete(recursive: true);
            return ValueTask.CompletedTask;
        }
    }
}
