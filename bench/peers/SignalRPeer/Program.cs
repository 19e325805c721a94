using Microsoft.AspNetCore.SignalR;

WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning); // problems only, on the console
ISignalRServerBuilder signalR = builder.Services.AddSignalR(o =>
{
    o.KeepAliveInterval = TimeSpan.FromSeconds(5);
    o.ClientTimeoutInterval = TimeSpan.FromSeconds(60);
});

// The cross-node benchmark runs two of these on one Redis, with SignalR's own Redis backplane.
if (Environment.GetEnvironmentVariable("BENCH_REDIS") is { Length: > 0 } redis)
{
    signalR.AddStackExchangeRedis(redis);
}

WebApplication app = builder.Build();
app.MapHub<RoomHub>("/hub");
app.Run();

/// <summary>One group per room, joined from <c>?room=</c>.</summary>
internal sealed class RoomHub : Hub
{
    public override Task OnConnectedAsync()
    {
        string room = Context.GetHttpContext()!.Request.Query["room"].ToString();
        Context.Items["room"] = room;
        return Groups.AddToGroupAsync(Context.ConnectionId, room);
    }

    public Task Echo(string payload) => Clients.Caller.SendAsync("m", payload);

    public Task Broadcast(string payload) => Clients.OthersInGroup((string)Context.Items["room"]!).SendAsync("m", payload);
}
