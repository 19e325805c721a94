using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Realtime.Testing;
using Realtime.TestSupport;

namespace Realtime.Server.PostgreSql.Tests;

/// <summary>
/// Nodes of one cluster: each an app with the Redis backplane (one prefix) and the PostgreSQL store (one schema), serving documents on
/// <see cref="RealtimeTestHost.DefaultPath"/>, in this process or (<see cref="StartHostProcessAsync"/>) as the runnable host in a child
/// process, to be killed. Error logs of the nodes in this process fail the test when the cluster is disposed.
/// </summary>
/// <param name="schema">The schema of the tables: a new one by default, or <c>public</c>, the only one the runnable host uses.</param>
internal sealed class DocumentCluster(PostgresFixture postgres, RedisFixture redis, string? schema = null) : IAsyncDisposable
{
    /// <summary>
    /// The nodes' <see cref="DocumentOptions.MaxSubmitRetries"/>, far past the default (100): with two editors per node awaiting 500 ops
    /// each, a node committing back to back made the other lose up to 84 races in a row, and in 2 runs of 12 more than 100
    /// (docs/stores.md, "Commits, races and retries"). Every editor's op must be applied, so the bound only stops a submit that would
    /// wait without end.
    /// </summary>
    public const int SubmitRetries = 10_000;

    private readonly List<IAsyncDisposable> _owned = [];
    private readonly LogSink _logs = new(LogLevel.Warning);

    public string Schema { get; } = schema ?? postgres.NewSchema();

    public string Prefix { get; } = "cluster-" + Guid.NewGuid().ToString("N");

    /// <summary>Starts a node in this process, on a free port.</summary>
    public async Task<RealtimeTestHost> StartNodeAsync(Action<DocumentOptions>? configure = null)
    {
        RealtimeTestHost node = await RealtimeTestHost.StartAppAsync(builder =>
        {
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Logging.AddProvider(_logs);
            builder.Services.AddRealtime()
                .AddStackExchangeRedis(redis.Configuration, o => o.Prefix = Prefix)
                .AddPostgresDocumentStore(postgres.ConnectionString, o => o.Schema = Schema);
        }, app => app.MapRealtime(RealtimeTestHost.DefaultPath, server => server.UseDocuments(o =>
        {
            o.MaxOpsPerSecond = 0;
            o.MaxSubmitRetries = SubmitRetries;
            configure?.Invoke(o);
        }))).DefaultTimeout("a node to start");
        _owned.Add(node);
        return node;
    }

    /// <summary>
    /// Starts a node as the runnable host in a child process (on a free port or on <paramref name="port"/>), configured by its environment
    /// variables as a deployment's are: the cluster's PostgreSQL (in schema <c>public</c>, which the host does not let one change) and
    /// Redis prefix, no limit on ops per second (editors that await each op can go past 100) and <see cref="SubmitRetries"/>, as
    /// <see cref="StartNodeAsync"/>.
    /// </summary>
    public async Task<HostProcess> StartHostProcessAsync(int port = 0)
    {
        Assert.Equal(PostgresDocumentStoreOptions.DefaultSchema, Schema);
        HostProcess node = await HostProcess.StartAsync(new Dictionary<string, string>
        {
            ["Realtime__Documents__Postgres"] = postgres.ConnectionString,
            ["Realtime__Redis__Configuration"] = redis.Configuration,
            ["Realtime__Redis__Prefix"] = Prefix,
            ["Realtime__Documents__MaxOpsPerSecond"] = "0",
            ["Realtime__Documents__MaxSubmitRetries"] = SubmitRetries.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, port: port);
        _owned.Add(node);
        return node;
    }

    /// <summary>A protocol v1 client of <paramref name="node"/> in room (document) <paramref name="documentId"/>.</summary>
    public async Task<WirePeer> ConnectAsync(RealtimeTestHost node, string documentId)
    {
        var peer = new WirePeer(await RawProtocolClient.ConnectWelcomedAsync($"ws://127.0.0.1:{node.Port}{RealtimeTestHost.DefaultPath}",
                                                                             "roomId=" + Uri.EscapeDataString(documentId)).DefaultTimeout("a peer to connect"));
        _owned.Add(peer);
        return peer;
    }

    /// <summary>A store of its own on the cluster's tables, to look at what was committed.</summary>
    public PostgresDocumentStore Inspect()
    {
        PostgresDocumentStore store = postgres.NewStore(Schema);
        _owned.Add(store);
        return store;
    }

    public void Own(IAsyncDisposable disposable) => _owned.Add(disposable);

    public async ValueTask DisposeAsync()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        _logs.AssertNoUnexpectedErrors();
    }
}

/// <summary>A raw protocol v1 client speaking <c>ot-doc</c>: requests sent as JSON text, messages parsed.</summary>
internal sealed class WirePeer(RawProtocolClient client) : IAsyncDisposable
{
    public string Id => client.ConnectionId!;

    public Task SendAsync(string json) => client.SendTextAsync($$"""{"t":"msg","type":"ot-doc","data":{{json}}}""");

    /// <summary>The next <c>ot-doc</c> message.</summary>
    public async Task<JsonElement> ReceiveAsync()
    {
        JsonElement frame = JsonDocument.Parse(await client.ReceiveStartingWithAsync("{\"t\":\"msg\"").DefaultTimeout("an ot-doc message")).RootElement;
        Assert.Equal("ot-doc", frame.GetProperty("type").GetString());
        return frame.GetProperty("data").Clone();
    }

    public async Task<JsonElement> AskAsync(string json)
    {
        await SendAsync(json);
        return await ReceiveAsync();
    }

    public ValueTask DisposeAsync() => client.DisposeAsync();
}
