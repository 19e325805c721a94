using System.Text.Json;
using Realtime.Server;

// The README's embedding example, built against the packages alone.
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddRealtime(options => options.PingInterval = TimeSpan.FromSeconds(10));
var app = builder.Build();

app.MapRealtime("/realtime", server =>
{
    server.Use(ServerEvents.Connect, async (ctx, next) =>
    {
        if (ctx.Connection.Auth is { ValueKind: JsonValueKind.Object } auth &&
            auth.TryGetProperty("token", out var token) && token.GetString() == "valid-token")
        {
            await next();
        }
        else
        {
            ctx.Reject("Authentication failed");
        }
    });
    server.On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message));
});
app.Run();

/// <summary>The app's entry point, visible to WebApplicationFactory.</summary>
public partial class Program;
