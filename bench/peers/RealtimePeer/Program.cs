using Realtime.Server;

// The relay (every message is broadcast to the rest of its room), as src/Server/Realtime.Server.Host does, plus one
// addition for the echo scenarios: a message of type "echo" goes back to its sender. Limits are raised so that they
// never shape the measurement; the heartbeat is 5 s for every system under test.
WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning); // problems only, on the console
IRealtimeBuilder realtime = builder.Services.AddRealtime(o =>
{
    o.PingInterval = TimeSpan.FromSeconds(5);
    o.PingTimeout = TimeSpan.FromSeconds(10);
    o.MaxMessagesPerSecond = 0;
    o.MaxConnectionsPerIpAddress = 100_000;

    // The load test's "history" system: every room keeps a history for recovery (docs/recovery.md).
    o.Recovery.Enabled = Environment.GetEnvironmentVariable("BENCH_RECOVERY") == "1";
});

// The cross-node benchmark runs two of these on one Redis.
if (Environment.GetEnvironmentVariable("BENCH_REDIS") is { Length: > 0 } redis)
{
    realtime.AddStackExchangeRedis(redis);
}

// The document benchmark on a durable store (Documents.cs, --store): a SQLite file, or a PostgreSQL database (shared by both
// nodes of the two-node system); unset, the in-memory store.
if (Environment.GetEnvironmentVariable("BENCH_SQLITE") is { Length: > 0 } sqlite)
{
    realtime.AddSqliteDocumentStore(sqlite);
}
else if (Environment.GetEnvironmentVariable("BENCH_POSTGRES") is { Length: > 0 } postgres)
{
    realtime.AddPostgresDocumentStore(postgres);
}

static void Relay(RealtimeServer server) => server.On(ServerEvents.Message, ctx =>
{
    if (ctx.Type == "echo")
    {
        ctx.Connection.Send(ctx.Message);
    }
    else
    {
        ctx.Connection.Broadcast(ctx.Message);
    }
});

// The load test's "dense" system: the same server on the dense listener (127.0.0.1:BENCH_DENSE_PORT) instead of MapRealtime.
bool dense = Environment.GetEnvironmentVariable("BENCH_DENSE_PORT") is { Length: > 0 };
if (dense)
{
    int port = int.Parse(Environment.GetEnvironmentVariable("BENCH_DENSE_PORT")!, System.Globalization.CultureInfo.InvariantCulture);
    builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port, l => l.UseRealtime("/realtime", Relay)));
}

WebApplication app = builder.Build();
if (!dense)
{
    app.MapRealtime("/realtime", Relay);
}

// The same server for the original JavaScript framework's clients (the load test's "compat" system). The document benchmark
// (BENCH_DOCUMENTS=1, Documents.cs) adds shared documents with json0, the defaults but for the per-connection op rate, which
// a closed loop of editors goes past by design (the original and ShareDB have no such limit).
bool documents = Environment.GetEnvironmentVariable("BENCH_DOCUMENTS") == "1";
app.MapJsCollaboration("/collaboration/", documents ? server => server.UseDocuments(o => o.MaxOpsPerSecond = 0) : null);
app.Run();
