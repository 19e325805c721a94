using System.Diagnostics;
using System.Text.Json;
using Realtime.Server;
using Realtime.Server.Diagnostics;

namespace Realtime.Server.Tests;

/// <summary>
/// One trace from the C# client through the server to the hook (docs/server.md, "Tracing"). The class runs alone: an
/// <see cref="ActivityListener"/> is process-wide, so a parallel test would see these spans, and the test without one would see a listener.
/// </summary>
[Collection(nameof(TracingTests))]
public sealed class TracingTests
{
    private static readonly ActivitySource TestSource = new("Realtime.Server.Tests.Tracing");

    [Fact]
    public async Task A_message_sent_under_an_activity_is_one_trace_from_the_client_span_through_the_server_span_to_the_hook()
    {
        using var spans = new SpanRecorder();
        var hookActivity = new TaskCompletionSource<Activity?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(configureServer: s => s.On(ServerEvents.Message, ctx =>
        {
            hookActivity.TrySetResult(Activity.Current);
            ctx.Connection.Broadcast(ctx.Message);
        }));
        var client = new Client.Client(host.Url);

        // The hello carries the trace context current when the connection is opened.
        using Activity opening = TestSource.StartActivity("test.open")!;
        Task<Connection> connecting = client.ConnectAsync("traced-room");
        opening.Stop();
        await using Connection sender = await connecting.DefaultTimeout();
        await using Connection receiver = await client.ConnectAsync("traced-room").DefaultTimeout();
        var received = new TaskCompletionSource<Message>(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.On(ConnectionEvents.Message, m => received.TrySetResult(m));
        await host.Connections.WaitAsync(receiver.Id!);

        Activity operation = TestSource.StartActivity("test.operation")!;
        using (operation)
        {
            sender.Send(new { a = 1 }, "doc");
        }

        Assert.Equal("{\"a\":1}", (await received.Task.DefaultTimeout("the relayed message")).Data.GetRawText());
        Activity? inHook = await hookActivity.Task.DefaultTimeout("the message hook");
        Activity messageSpan = await spans.WaitForAsync(a => a.OperationName == RealtimeActivities.MessageSpan && Tag(a, "messaging.client.id") == sender.Id);

        // The client's span: a child of the test's activity, in its trace.
        Activity sendSpan = Assert.Single(spans.Stopped, a => a.OperationName == "realtime.send");
        Assert.Equal(Client.Client.ActivitySourceName, sendSpan.Source.Name);
        Assert.Equal(ActivityKind.Producer, sendSpan.Kind);
        Assert.Equal(operation.TraceId, sendSpan.TraceId);
        Assert.Equal(operation.SpanId, sendSpan.ParentSpanId);
        Assert.Equal("traced-room", Tag(sendSpan, "messaging.destination.name"));
        Assert.Equal("send", Tag(sendSpan, "messaging.operation.type"));

        // The server's span: the client span's child, in the same trace, and the hook ran inside it.
        Assert.Equal(RealtimeServer.ActivitySourceName, messageSpan.Source.Name);
        Assert.Equal(ActivityKind.Consumer, messageSpan.Kind);
        Assert.Equal(operation.TraceId, messageSpan.TraceId);
        Assert.Equal(sendSpan.SpanId, messageSpan.ParentSpanId);
        Assert.True(messageSpan.HasRemoteParent);
        Assert.Same(messageSpan, inHook);
        Assert.Equal("realtime", Tag(messageSpan, "messaging.system"));
        Assert.Equal("process", Tag(messageSpan, "messaging.operation.type"));
        Assert.Equal("traced-room", Tag(messageSpan, "messaging.destination.name"));
        Assert.Equal("doc", Tag(messageSpan, "realtime.message.type"));
        Assert.Equal("realtime.v1", Tag(messageSpan, "realtime.protocol"));
        Assert.Equal(7, messageSpan.GetTagItem("messaging.message.body.size"));

        // Linked to the sender's handshake span, which the hello's trace context parented.
        Activity connectSpan = Assert.Single(spans.Stopped, a => a.OperationName == RealtimeActivities.ConnectSpan && Tag(a, "messaging.client.id") == sender.Id);
        ActivityLink link = Assert.Single(messageSpan.Links);
        Assert.Equal(connectSpan.Context.TraceId, link.Context.TraceId);
        Assert.Equal(connectSpan.SpanId, link.Context.SpanId);
        Assert.Equal(ActivityKind.Server, connectSpan.Kind);
        Assert.Equal(opening.TraceId, connectSpan.TraceId);
        Assert.Equal(opening.SpanId, connectSpan.ParentSpanId);
        Assert.Equal("accepted", Tag(connectSpan, "realtime.connect.outcome"));
        Assert.Equal("traced-room", Tag(connectSpan, "messaging.destination.name"));
        Assert.True(connectSpan.Duration > TimeSpan.Zero);
        Assert.True(connectSpan.StartTimeUtc + connectSpan.Duration <= messageSpan.StartTimeUtc, "the handshake's span ends before its messages are processed");
    }

    [Fact]
    public async Task Connect_middleware_runs_inside_the_connect_span_and_a_refusal_is_its_outcome()
    {
        using var spans = new SpanRecorder();
        var inMiddleware = new WatchedList<Activity?>();
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(configureServer: s => s.Use(ServerEvents.Connect, async (ctx, next) =>
        {
            inMiddleware.Add(Activity.Current);
            if (ctx.RoomId == "closed-room")
            {
                ctx.Reject("Closed");
                return;
            }

            await next();
        }));

        await using RawProtocolClient refused = await RawProtocolClient.ConnectAsync(host.Url, "roomId=closed-room");
        await refused.HelloAsync();
        await refused.ReceiveStartingWithAsync("{\"t\":\"reject\"");

        Activity connectSpan = await spans.WaitForAsync(a => a.OperationName == RealtimeActivities.ConnectSpan);
        Assert.Equal("rejected", Tag(connectSpan, "realtime.connect.outcome"));
        Assert.Same(connectSpan, Assert.Single(inMiddleware.Items));
    }

    [Fact]
    public async Task A_malformed_trace_context_is_ignored_and_the_message_is_still_relayed()
    {
        using var spans = new SpanRecorder();
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(); // the relay
        await using RawProtocolClient receiver = await RawProtocolClient.ConnectWelcomedAsync(host.Url, "roomId=odd-room");
        await host.Connections.WaitAsync(receiver.ConnectionId!);
        await using RawProtocolClient sender = await RawProtocolClient.ConnectAsync(host.Url, "roomId=odd-room");
        await sender.SendTextAsync("{\"t\":\"hello\",\"traceparent\":\"00-not-a-trace-01\",\"tracestate\":17}");
        await sender.ReceiveStartingWithAsync("{\"t\":\"welcome\"");

        await sender.SendTextAsync("{\"t\":\"msg\",\"type\":\"a\",\"data\":1,\"traceparent\":\"00-00000000000000000000000000000000-0000000000000000-01\"}");
        await sender.SendTextAsync("{\"t\":\"msg\",\"type\":\"b\",\"data\":2,\"traceparent\":{\"no\":1},\"tracestate\":\"x=y\"}");
        await sender.SendTextAsync("{\"t\":\"msg\",\"type\":\"c\",\"data\":3,\"traceparent\":\"" + new string('0', 300) + "\"}");

        Assert.Equal("{\"t\":\"msg\",\"type\":\"a\",\"data\":1}", await receiver.ReceiveStartingWithAsync("{\"t\":\"msg\""));
        Assert.Equal("{\"t\":\"msg\",\"type\":\"b\",\"data\":2}", await receiver.ReceiveStartingWithAsync("{\"t\":\"msg\""));
        Assert.Equal("{\"t\":\"msg\",\"type\":\"c\",\"data\":3}", await receiver.ReceiveStartingWithAsync("{\"t\":\"msg\""));

        await spans.WaitForAsync(a => a.OperationName == RealtimeActivities.MessageSpan && Tag(a, "realtime.message.type") == "c");
        Activity[] messageSpans = [.. spans.Stopped.Where(a => a.OperationName == RealtimeActivities.MessageSpan)];
        Assert.Equal(3, messageSpans.Length);
        Activity connectSpan = Assert.Single(spans.Stopped, a => a.OperationName == RealtimeActivities.ConnectSpan && Tag(a, "messaging.client.id") != receiver.ConnectionId);
        Assert.False(connectSpan.HasRemoteParent);
        Assert.All(messageSpans, span =>
        {
            Assert.False(span.HasRemoteParent);
            Assert.Equal(default, span.ParentSpanId); // a root: not a child of the upgrade request's activity
            Assert.Equal(connectSpan.SpanId, Assert.Single(span.Links).Context.SpanId);
        });
    }

    [Fact]
    public async Task A_message_a_feature_claims_gets_no_span()
    {
        using var spans = new SpanRecorder();
        var claimed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(configureServer: s =>
        {
            s.UseFeature(new ClaimingFeature(claimed));
            s.On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message));
        });
        await using Connection sender = await new Client.Client(host.Url).ConnectAsync("feature-room").DefaultTimeout();

        sender.Send(1, "claimed");
        await claimed.Task.DefaultTimeout("the feature");
        sender.Send(2, "relayed");
        await spans.WaitForAsync(a => a.OperationName == RealtimeActivities.MessageSpan && Tag(a, "realtime.message.type") == "relayed");

        Assert.Single(spans.Stopped, a => a.OperationName == RealtimeActivities.MessageSpan); // messages are processed in order: "claimed" came first
    }

    [Fact]
    public async Task Without_a_listener_no_span_is_made_and_the_client_trace_context_is_not_read()
    {
        Assert.False(RealtimeActivities.Enabled);
        var inHook = new TaskCompletionSource<(Activity? Current, ServerConnection Connection)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(configureServer: s => s.On(ServerEvents.Message, ctx =>
        {
            inHook.TrySetResult((Activity.Current, ctx.Connection));
            ctx.Connection.Broadcast(ctx.Message);
        }));
        var client = new Client.Client(host.Url);
        await using Connection receiver = await client.ConnectAsync("quiet-room").DefaultTimeout();
        var received = new TaskCompletionSource<Message>(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.On(ConnectionEvents.Message, m => received.TrySetResult(m));
        await host.Connections.WaitAsync(receiver.Id!);

        await using Connection sender = await client.ConnectAsync("quiet-room").DefaultTimeout();
        using var operation = new Activity("test.operation");
        operation.SetIdFormat(ActivityIdFormat.W3C).Start();
        sender.Send(new { a = 1 }, "doc");
        operation.Stop();

        await received.Task.DefaultTimeout("the relayed message");
        (Activity? current, ServerConnection connection) = await inHook.Task.DefaultTimeout("the message hook");
        Assert.True(current is null || (current.Source.Name != RealtimeServer.ActivitySourceName && current.TraceId != operation.TraceId),
                    $"the hook ran under {current?.Source.Name}/{current?.OperationName} in trace {current?.TraceId}");
        Assert.Null(connection.ConnectSpanLinks);
    }

    private static string? Tag(Activity activity, string key) => activity.GetTagItem(key) as string;

    /// <summary>A feature that claims the type <c>claimed</c> and says when it handled one.</summary>
    private sealed class ClaimingFeature(TaskCompletionSource handled) : RealtimeFeature("claiming", ["claimed"])
    {
        protected override ValueTask OnMessageAsync(ServerConnection connection, Message message, CancellationToken cancellationToken)
        {
            handled.TrySetResult();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Records the spans of the server, the client and the test as they stop.</summary>
    private sealed class SpanRecorder : IDisposable
    {
        private readonly WatchedList<Activity> _stopped = new();
        private readonly ActivityListener _listener;

        public SpanRecorder()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = s => s.Name is RealtimeServer.ActivitySourceName or Client.Client.ActivitySourceName || s == TestSource,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = _stopped.Add,
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public IReadOnlyList<Activity> Stopped => _stopped.Items;

        public async Task<Activity> WaitForAsync(Func<Activity, bool> match)
        {
            await _stopped.WaitForAsync(items => items.Any(match), "a span");
            return _stopped.Items.First(match);
        }

        public void Dispose() => _listener.Dispose();
    }
}

/// <summary>The tracing tests run alone, after the parallel test classes (an activity listener is process-wide).</summary>
[CollectionDefinition(nameof(TracingTests), DisableParallelization = true)]
public sealed class TracingCollection
{
}
