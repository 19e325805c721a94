// The Realtime host: the relay app, written with the public API only, as any user's app would be.
using Realtime;
using Realtime.Server;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);

// The "Realtime" configuration section binds RealtimeOptions: appsettings.json, or environment
// variables such as Realtime__PingInterval=00:00:05.
IRealtimeBuilder realtime = builder.Services.AddRealtime();
builder.Services.AddOptions<RealtimeOptions>().BindConfiguration("Realtime");

// Scale-out: with Realtime:Redis:Configuration set (Realtime__Redis__Configuration=localhost:6379), rooms are shared with every
// node on that Redis; the rest of the section binds the backplane's options (Prefix, NodeId, PublishTimeout). Without it: in memory.
if (builder.Configuration["Realtime:Redis:Configuration"] is { Length: > 0 } redis)
{
    realtime.AddStackExchangeRedis(redis, options => builder.Configuration.GetSection("Realtime:Redis").Bind(options));
}

// Shared documents (docs/stores.md): kept in a SQLite file, data/documents.db under the content root, so they survive a restart;
// Realtime:Documents:Sqlite names another file (Realtime__Documents__Sqlite=/var/lib/realtime/documents.db), and
// Realtime:Documents:Store=memory keeps them in memory instead (gone at a restart), and Realtime:Documents:Postgres (a connection
// string) in PostgreSQL, which the nodes of a cluster share.
DocumentStores.Add(builder, realtime);

builder.Services.AddHealthChecks();

// Dense mode: with Realtime:DenseListener:Port set (Realtime__DenseListener__Port=5001), Realtime is also served on that port by
// Kestrel's connection layer, at /realtime, for many mostly idle connections at less memory each. Off by default. The port binds
// where the app's URLs bind (loopback for http://127.0.0.1:5000 or localhost), or where Realtime:DenseListener:Address says.
DenseListener.AddWhenConfigured(builder);

// The status page (docs/server.md, "Status page"): at /realtime/status in Development, for loopback requests only.
DevelopmentStatusPage.AddInDevelopment(builder);

// OpenTelemetry (docs/operations.md): Prometheus scrapes /metrics (Realtime__Metrics__Prometheus=false turns it off); with the
// standard OTEL_EXPORTER_OTLP_ENDPOINT set, metrics, traces and logs are also exported over OTLP.
Telemetry.AddWhenConfigured(builder);

WebApplication app = builder.Build();
DocumentStores.OpenAtStartup(app);

// The demo page at / (wwwroot: chat, members and cursors, built on the browser client).
app.UseDefaultFiles();
app.UseStaticFiles();

// Relay: every message a client sends goes to the other members of its room, type preserved. Presence (who is here, and where:
// docs/presence.md) handles its own "presence" messages, and shared documents (one per room, json0 and text-unicode:
// docs/documents.md) their "ot-doc" messages; neither is relayed.
app.MapRealtime("/realtime", server => server
    .UsePresence()
    .UseDocuments(documents =>
    {
        documents.AddType(OtTypes.Json0).AddType(OtTypes.TextUnicode);

        // Each connection's submits per second (Realtime__Documents__MaxOpsPerSecond=0 turns the limit off), and how often a submit
        // that lost its commit to another node starts again before it is refused with code 4 (docs/stores.md).
        documents.MaxOpsPerSecond = builder.Configuration.GetValue("Realtime:Documents:MaxOpsPerSecond", DocumentOptions.DefaultMaxOpsPerSecond);
        documents.MaxSubmitRetries = builder.Configuration.GetValue("Realtime:Documents:MaxSubmitRetries", DocumentOptions.DefaultMaxSubmitRetries);
    })
    .On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message)));
// The original JavaScript collaboration framework's clients: new Client(url, { path: "/collaboration/" }).
// Both endpoints share one RealtimeServer, so the relay hook above serves this one too (and a room can mix both kinds of client).
app.MapJsCollaboration("/collaboration/");
// The browser client, for pages: import { Client } from "/realtime/client.js".
app.MapRealtimeClientScript();
app.MapHealthChecks("/healthz");
DevelopmentStatusPage.MapInDevelopment(app);
Telemetry.MapWhenConfigured(app);

app.Run();
