using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Realtime.TestSupport;
using static Realtime.Server.Tests.Documents.DocumentHost;

namespace Realtime.Server.Tests.Documents;

/// <summary>Document middleware (<see cref="DocumentOptions.Use"/>): each action, its refusal codes, and what a refusal leaves committed.</summary>
public sealed class DocumentMiddlewareTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Submit_refusals_are_1000_by_default_or_the_code_given_such_as_the_silent_19_and_commit_nothing(bool compatibility)
    {
        await using KestrelRealtimeHost host = await StartAsync(o => o.Use(DocumentAction.Submit, (ctx, next) =>
        {
            string? text = ctx.Request.TryGetProperty("op", out var op) ? op[0].GetProperty("s").GetString() : null;
            switch (text)
            {
                case "forbidden":
                    ctx.Reject("Forbidden");
                    return ValueTask.CompletedTask;
                case "silent":
                    ctx.Reject(DocumentErrorCodes.SubmitRejected, "Op submit rejected");
                    return ValueTask.CompletedTask;
                case "dropped":
                    return ValueTask.CompletedTask; // neither next nor a rejection
                default:
                    return next();
            }
        }));
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility);
        await using DocPeer b = await DocPeer.ConnectAsync(host, compatibility);
        await a.AskAsync(Create(1));
        await b.AskAsync("""{"a":3}""");

        Assert.Equal("Forbidden", await a.ExpectErrorAsync(Insert(2, 1, 0, "forbidden"), 1000));
        Assert.Equal("Op submit rejected", await a.ExpectErrorAsync(Insert(3, 1, 0, "silent"), 19));
        Assert.Equal("Refused", await a.ExpectErrorAsync(Insert(4, 1, 0, "dropped"), 1000));
        Assert.Equal(Ack(a.Id, 5, 1), await a.AskAsync(Insert(5, 1, 0, "fine")));
        Assert.Equal(OpMessage(1, a.Id, 5, 0, "fine"), await b.ReceiveAsync()); // the first op b hears of
    }

    [Fact]
    public async Task Every_action_runs_with_what_it_knows_and_the_refusals_of_apply_and_commit_leave_nothing_while_after_write_keeps_the_op()
    {
        var seen = new ConcurrentQueue<string>();
        string? refuse = null;
        await using KestrelRealtimeHost host = await StartAsync(o =>
        {
            foreach (DocumentAction action in Enum.GetValues<DocumentAction>())
            {
                o.Use(action, (ctx, next) =>
                {
                    seen.Enqueue($"{ctx.Action}:{ctx.DocumentId}:{ctx.Connection is not null}:{ctx.Version}:{ctx.Op?.ToJsonString()}");
                    if (refuse == ctx.Action.ToString())
                    {
                        ctx.Reject("no " + refuse);
                        return ValueTask.CompletedTask;
                    }

                    if (ctx.Action == DocumentAction.Reply && ctx.Reply is { } reply)
                    {
                        reply["seen"] = true; // reply middleware may change what goes out
                    }

                    return next();
                });
            }
        });
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility: true);
        await using DocPeer b = await DocPeer.ConnectAsync(host, compatibility: true);
        Assert.Equal($$$"""{"src":"{{{a.Id}}}","seq":1,"v":0,"a":5,"seen":true}""", await a.AskAsync(Create(1)));
        Assert.Equal(["Receive:room1:True:-1:", "Submit:room1:True:-1:", "Apply:room1:True:0:", "Commit:room1:True:0:", "AfterWrite:room1:True:0:", "Reply:room1:True:-1:"], seen);
        seen.Clear();
        await b.AskAsync("""{"a":3}""");
        Assert.Equal(["Receive:room1:True:-1:", "ReadSnapshots:room1:True:1:", "Reply:room1:True:-1:"], seen);

        foreach (string action in new[] { "Apply", "Commit" })
        {
            refuse = action;
            Assert.Equal("no " + action, await a.ExpectErrorAsync(Insert(2, 1, 0, action), 1000));
        }

        refuse = "AfterWrite";
        Assert.Equal("no AfterWrite", await a.ExpectErrorAsync(Insert(3, 1, 0, "kept"), 1000));
        Assert.Equal(OpMessage(1, a.Id, 3, 0, "kept"), await b.ReceiveAsync()); // committed and broadcast all the same

        refuse = "ReadSnapshots";
        Assert.Equal("no ReadSnapshots", await b.ExpectErrorAsync("""{"a":0}""", 11));
        refuse = "Receive";
        Assert.Equal("no Receive", await b.ExpectErrorAsync("""{"a":0}""", 1000));
        refuse = "ReadOp";
        Assert.Equal("no ReadOp", await b.ExpectErrorAsync("""{"a":0,"v":1}""", 1000));
        refuse = null;
        seen.Clear();
        await b.SendAsync("""{"a":0,"v":1}""");
        Assert.Equal(OpMessage(1, a.Id, 3, 0, "kept"), await b.ReceiveAsync());
        Assert.Equal("""{"a":0,"seen":true}""", await b.ReceiveAsync());
        Assert.Contains(seen, s => s.StartsWith("ReadOp:room1:True:1:{\"a\":5", StringComparison.Ordinal));
        Assert.Equal($$$"""{"data":{"id":"room1","v":2,"type":"{{{ListUri}}}","data":["kept"]},"a":0,"seen":true}""", await b.AskAsync("""{"a":0}"""));
    }

    [Fact]
    public async Task A_middleware_that_throws_refuses_with_1000_and_is_logged()
    {
        await using KestrelRealtimeHost host = await StartAsync(o => o.Use(DocumentAction.Submit, (_, _) => throw new InvalidOperationException("bug")));
        host.ExpectErrors("DocumentMiddlewareFailed");
        await using DocPeer a = await DocPeer.ConnectAsync(host, compatibility: true);
        Assert.Equal("Internal server error", await a.ExpectErrorAsync(Create(1), 1000));
        await host.Logs.WaitForAsync("DocumentMiddlewareFailed");
        Assert.Equal("""{"data":{"id":"room1","v":0},"a":0}""", await a.AskAsync("""{"a":0}"""));
    }

    [Fact]
    public async Task Middleware_of_a_server_side_submit_sees_no_connection()
    {
        var connections = new ConcurrentQueue<bool>();
        await using KestrelRealtimeHost host = await StartAsync(o => o.Use(DocumentAction.Submit, (ctx, next) =>
        {
            connections.Enqueue(ctx.Connection is null);
            return next();
        }));
        await host.Server.GetDocumentService().CreateAsync("doc", "test-list", new JsonArray());
        Assert.Equal([true], connections);
    }
}
