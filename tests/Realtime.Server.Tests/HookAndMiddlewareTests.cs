using System.Collections.Concurrent;
using System.Text.Json;
using Nito.AsyncEx;
using Realtime.Server;

namespace Realtime.Server.Tests;

public class HookAndMiddlewareTests
{
    [Fact]
    public async Task Hooks_and_middleware_run_in_the_documented_order()
    {
        await using var app = new RealtimeAppFactory();
        RealtimeServer server = app.RealtimeServer;
        var order = new ConcurrentQueue<string>();
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Use(ServerEvents.Connect, async (ctx, next) =>
        {
            order.Enqueue("connect-middleware");
            await next();
            order.Enqueue("connect-middleware-after-next");
        });
        server.On(ServerEvents.CreateRoom, ctx => order.Enqueue($"createRoom:{ctx.Connection is null}"));
        server.On(ServerEvents.EnterRoom, ctx => order.Enqueue($"enterRoom:{ctx.Connection is not null}"));
        server.On(ServerEvents.Connect, _ => order.Enqueue("connect-hook"));
        server.Use(ServerEvents.Message, async (ctx, next) =>
        {
            order.Enqueue("message-middleware");
            await next();
        });
        server.On(ServerEvents.Message, ctx => order.Enqueue("message-hook:" + ctx.Type));
        server.On(ServerEvents.LeaveRoom, ctx => order.Enqueue($"leaveRoom:listed={server.GetConnections(ctx.RoomId).Contains(ctx.Connection!)}"));
        server.On(ServerEvents.DestroyRoom, ctx => order.Enqueue($"destroyRoom:inRooms={server.Rooms.Contains(ctx.RoomId)}"));
        server.On(ServerEvents.Disconnect, ctx =>
        {
            order.Enqueue("disconnect:" + ctx.Reason);
            disconnected.TrySetResult();
        });

        Connection ann = await app.CreateRealtimeClient().ConnectAsync("room1").DefaultTimeout();
        await ann.SendAsync("x", "edit").DefaultTimeout();
        await ann.DisposeAsync();
        await disconnected.Task.DefaultTimeout();

        Assert.Equal(
            new[]
            {
                "connect-middleware", "connect-middleware-after-next", "createRoom:True", "enterRoom:True", "connect-hook",
                "message-middleware", "message-hook:edit", "leaveRoom:listed=False", "destroyRoom:inRooms=False", "disconnect:ClientDisconnect",
            },
            order);
        Assert.Equal(0, server.ConnectionCount);
        Assert.Empty(server.Rooms);
    }

    [Fact]
    public async Task A_rejected_connect_raises_Error_with_the_middleware_message_and_no_Disconnect()
    {
        await using var app = new RealtimeAppFactory();
        int disconnectHooks = 0;
        var connectHook = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        app.RealtimeServer.Use(ServerEvents.Connect, async (ctx, next) =>
        {
            if (ctx.Connection.Auth.ValueKind == JsonValueKind.Object &&
                ctx.Connection.Auth.TryGetProperty("token", out JsonElement token) && token.GetString() == "valid-token")
            {
                await next();
            }
            else
            {
                ctx.Reject("Authentication failed");
            }
        });
        app.RealtimeServer.On(ServerEvents.Connect, ctx => Assert.True(connectHook.TrySetResult(ctx.Connection.Id), "a second connect hook ran"));
        app.RealtimeServer.On(ServerEvents.Disconnect, _ => disconnectHooks++);
        Client.Client client = app.CreateRealtimeClient();

        // Connect(): Error with the exact text, no Disconnect, no reconnection.
        Connection rejected = client.Connect("room1", new ConnectOptions { Auth = new { token = "wrong" } });
        var events = new ConnectionRecorder(rejected);
        await events.WaitForEventAsync("error");
        await rejected.CloseAsync().DefaultTimeout();
        RealtimeConnectException error = Assert.IsType<RealtimeConnectException>(Assert.Single(events.Errors));
        Assert.Equal("Authentication failed", error.Message);
        Assert.True(error.IsRejection);
        Assert.Equal(new[] { "error" }, events.Events);

        // ConnectAsync(): throws with the exact text.
        var thrown = await Assert.ThrowsAsync<RealtimeConnectException>(() => client.ConnectAsync("room1").DefaultTimeout());
        Assert.Equal("Authentication failed", thrown.Message);

        await using Connection accepted = await client.ConnectAsync("room1", new ConnectOptions { Auth = new { token = "valid-token" } }).DefaultTimeout();
        Assert.True(accepted.Connected);

        // Connect hooks run after welcome, so await the hook: only the accepted connection runs one.
        Assert.Equal(accepted.Id, await connectHook.Task.DefaultTimeout("the connect hook"));
        Assert.Equal(0, disconnectHooks);
        Assert.Equal(1, app.RealtimeServer.ConnectionCount);
    }

    [Fact]
    public async Task Connect_middleware_that_does_not_call_next_rejects_with_a_default_message_and_a_throw_with_internal_server_error()
    {
        await using var app = new RealtimeAppFactory();
        app.ExpectErrors("ConnectMiddlewareFailed");
        app.RealtimeServer.Use(ServerEvents.Connect, (ctx, next) => ctx.Connection.Query["mode"] switch
        {
            "silent" => ValueTask.CompletedTask,
            "throw" => throw new InvalidOperationException("secret detail"),
            _ => next(),
        });
        Client.Client client = app.CreateRealtimeClient();

        var silent = await Assert.ThrowsAsync<RealtimeConnectException>(() => client.ConnectAsync("room1", Mode("silent")).DefaultTimeout());
        Assert.Equal("Connection rejected", silent.Message);
        var thrown = await Assert.ThrowsAsync<RealtimeConnectException>(() => client.ConnectAsync("room1", Mode("throw")).DefaultTimeout());
        Assert.Equal("Internal server error", thrown.Message);
        app.Logs.AssertNoUnexpectedErrors("ConnectMiddlewareFailed");
        Assert.Single(app.Logs.Errors);
        Assert.DoesNotContain(app.Logs.Entries, e => e.Message.Contains("secret detail", StringComparison.Ordinal));

        static ConnectOptions Mode(string mode) => new() { Query = new Dictionary<string, string> { ["mode"] = mode } };
    }

    [Fact]
    public async Task A_rejected_message_raises_Error_for_the_sender_only_and_the_connection_stays_up()
    {
        await using var app = new RealtimeAppFactory();
        app.RealtimeServer.Use(ServerEvents.Message, async (ctx, next) =>
        {
            if (ctx.Type == "edit")
            {
                ctx.Reject("Not allowed to edit");
                return;
            }

            await next();
        });
        Client.Client client = app.CreateRealtimeClient();
        await using Connection ann = await client.ConnectAsync("room1").DefaultTimeout();
        await using Connection bob = await client.ConnectAsync("room1").DefaultTimeout();
        var annEvents = new ConnectionRecorder(ann);
        var bobEvents = new ConnectionRecorder(bob);

        ann.Send("x", "edit");
        await annEvents.WaitForEventAsync("error");
        RealtimeException error = Assert.IsType<RealtimeException>(Assert.Single(annEvents.Errors));
        Assert.Equal("Not allowed to edit", error.Message);
        Assert.True(ann.Connected);

        ann.Send("y", "view");
        await bobEvents.WaitForEventAsync("message:view");
        Assert.Equal(new[] { "message:view" }, bobEvents.Events);
        Assert.DoesNotContain("disconnect", string.Join(",", annEvents.Events), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Message_middleware_can_drop_or_replace_a_message_and_hooks_see_the_replacement()
    {
        await using var app = new RealtimeAppFactory();
        app.RealtimeServer.Use(ServerEvents.Message, async (ctx, next) =>
        {
            if (ctx.Type == "spam")
            {
                return; // dropped silently
            }

            if (ctx.Type == "secret")
            {
                ctx.Message = Message.Create(new { redacted = true }, "secret");
            }

            await next();
        });
        var hookSaw = new ConcurrentQueue<string>();
        var hookRan = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.RealtimeServer.On(ServerEvents.Message, ctx =>
        {
            hookSaw.Enqueue(ctx.Data.GetRawText());
            hookRan.TrySetResult();
        });
        Client.Client client = app.CreateRealtimeClient();
        await using Connection ann = await client.ConnectAsync("room1").DefaultTimeout();
        await using Connection bob = await client.ConnectAsync("room1").DefaultTimeout();
        var bobEvents = new ConnectionRecorder(bob);

        ann.Send("buy now", "spam");
        ann.Send(new { password = "hunter2" }, "secret");
        await bobEvents.WaitForEventAsync("message:secret");
        await hookRan.Task.DefaultTimeout("the message hook");
        Assert.Equal("{\"redacted\":true}", Assert.Single(bobEvents.Messages).Data.GetRawText());
        Assert.Equal(new[] { "{\"redacted\":true}" }, hookSaw);
        Assert.Equal(new[] { "message:secret" }, bobEvents.Events);
    }

    [Fact]
    public async Task Tags_set_in_middleware_are_visible_in_hooks_and_query_and_auth_are_exposed()
    {
        await using var app = new RealtimeAppFactory();
        var seen = new TaskCompletionSource<(object? Tag, string User, string Room, string Token)>(TaskCreationOptions.RunContinuationsAsynchronously);
        app.RealtimeServer.Use(ServerEvents.Connect, async (ctx, next) =>
        {
            ctx.Connection.Tags["user"] = ctx.Connection.Query["user"].ToUpperInvariant();
            await next();
        });
        app.RealtimeServer.On(ServerEvents.Message, ctx => seen.TrySetResult(
            (ctx.Connection.Tags["user"], ctx.Connection.Query["user"], ctx.Connection.Query["roomId"], ctx.Connection.Auth.GetProperty("token").GetString()!)));
        await using Connection ann = await app.CreateRealtimeClient().ConnectAsync(
            "room 1/é", new ConnectOptions { Auth = new { token = "t0k" }, Query = new Dictionary<string, string> { ["user"] = "ann & co" } }).DefaultTimeout();

        ann.Send("hi");
        Assert.Equal(("ANN & CO", "ann & co", "room 1/é", "t0k"), await seen.Task.DefaultTimeout());
    }

    [Fact]
    public async Task Broadcast_with_includeSelf_reaches_the_sender_too_and_the_server_can_push_from_outside()
    {
        await using var app = new RealtimeAppFactory();
        app.RealtimeServer.On(ServerEvents.Message, ctx =>
        {
            if (ctx.Type == "shout")
            {
                ctx.Connection.Broadcast(ctx.Message, includeSelf: true);
            }
        });
        Client.Client client = app.CreateRealtimeClient();
        await using Connection ann = await client.ConnectAsync("room1").DefaultTimeout();
        await using Connection bob = await client.ConnectAsync("room1").DefaultTimeout();
        await using Connection carol = await client.ConnectAsync("room2").DefaultTimeout();
        var annEvents = new ConnectionRecorder(ann);
        var bobEvents = new ConnectionRecorder(bob);
        var carolEvents = new ConnectionRecorder(carol);

        ann.Send("hey", "shout");
        await annEvents.WaitForEventAsync("message:shout");

        app.RealtimeServer.Broadcast("room2", new { level = 3 }, "alert");
        await app.Connections.WaitAsync(carol.Id!);
        (await app.Connections.WaitAsync(bob.Id!)).Send(new { only = "bob" }, "direct");
        await carolEvents.WaitForEventAsync("message:alert");
        await bobEvents.WaitForEventAsync("message:direct");
        Assert.Equal(3, Assert.Single(carolEvents.Messages).Data.GetProperty("level").GetInt32());
        Assert.Contains("message:shout", bobEvents.Events);
        Assert.Equal(new[] { "room1", "room2" }, app.RealtimeServer.Rooms.Order());
        await app.Connections.WaitAsync(ann.Id!);
        Assert.Equal(3, app.RealtimeServer.ConnectionCount);
    }

    [Fact]
    public async Task A_throwing_hook_is_logged_and_neither_the_other_hooks_nor_the_connection_are_affected()
    {
        await using var app = new RealtimeAppFactory();
        app.ExpectErrors("HookFailed");
        app.RealtimeServer.On(ServerEvents.Message, (Action<MessageContext>)(_ => throw new InvalidOperationException("hook bug")));

        // Hooks of one event run in order: this one runs after the throwing one has thrown and been logged.
        var afterThrowingHook = new AsyncCountdownEvent(2);
        app.RealtimeServer.On(ServerEvents.Message, _ => afterThrowingHook.Signal());
        Client.Client client = app.CreateRealtimeClient();
        await using Connection ann = await client.ConnectAsync("room1").DefaultTimeout();
        await using Connection bob = await client.ConnectAsync("room1").DefaultTimeout();
        var bobEvents = new ConnectionRecorder(bob);

        ann.Send(1, "a");
        ann.Send(2, "b");
        await bobEvents.WaitForCountAsync("message:", 2);
        await afterThrowingHook.WaitAsync().DefaultTimeout("the hooks after the throwing one");
        Assert.True(ann.Connected);
        Assert.Equal(2, app.Logs.Errors.Count(e => e.EventName == "HookFailed"));
        app.Logs.AssertNoUnexpectedErrors("HookFailed");
    }

    [Fact]
    public async Task Sending_before_the_handshake_is_accepted_throws_and_after_next_arrives_after_welcome()
    {
        await using var app = new RealtimeAppFactory();
        var early = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        app.RealtimeServer.Use(ServerEvents.Connect, async (ctx, next) =>
        {
            early.TrySetResult(Record.Exception(() => ctx.Connection.Send("too early")));
            await next();
            ctx.Connection.Send("welcome aboard", "greeting");
            Assert.Throws<InvalidOperationException>(() => ctx.Reject("too late"));
        });
        Connection ann = app.CreateRealtimeClient().Connect("room1");
        var events = new ConnectionRecorder(ann);
        await events.WaitForEventAsync("message:greeting");
        await ann.DisposeAsync();
        Assert.IsType<InvalidOperationException>(await early.Task.DefaultTimeout());
        Assert.Equal("connect", events.Events[0]);
    }
}
