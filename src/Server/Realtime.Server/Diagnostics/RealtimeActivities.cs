using System.Diagnostics;
using Realtime.Protocol;

namespace Realtime.Server.Diagnostics;

/// <summary>
/// The server's spans, on the <see cref="ActivitySource"/> <see cref="RealtimeServer.ActivitySourceName"/>: <c>realtime.connect</c>
/// around a handshake and <c>realtime.message</c> around a message the application's middleware and hooks handle. Attribute names
/// follow the OpenTelemetry messaging conventions where one fits. Unless something listens, nothing here is called past a
/// <see cref="ActivitySource.HasListeners"/> check: no span, no allocation, and the clients' trace context is not even read.
/// </summary>
internal static class RealtimeActivities
{
    public const string ConnectSpan = "realtime.connect";
    public const string MessageSpan = "realtime.message";

    public static readonly ActivitySource Source = new(RealtimeServer.ActivitySourceName, typeof(RealtimeActivities).Assembly.GetName().Version?.ToString());

    /// <summary>Whether anything listens: the hot path checks this before any tracing work.</summary>
    public static bool Enabled => Source.HasListeners();

    /// <summary>
    /// Starts the handshake's span, a child of the <c>hello</c>'s trace context when it carried a valid one, otherwise of the activity
    /// current on the upgrade request (ASP.NET Core's, when it is traced). A recorded span is kept on the connection as the link of
    /// its messages' spans.
    /// </summary>
    /// <returns>The span, or <see langword="null"/> when nothing listens or the listener does not sample it.</returns>
    public static Activity? StartConnect(ServerConnection connection, WireTraceContext? trace)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        Activity? span = Source.StartActivity(ConnectSpan, ActivityKind.Server, ParentOf(trace));
        if (span is null)
        {
            return null;
        }

        if (span.IsAllDataRequested)
        {
            SetConnectionTags(span, connection);
        }

        if (span.Recorded)
        {
            connection.ConnectSpanLinks = [new ActivityLink(span.Context)];
        }

        return span;
    }

    /// <summary>Ends the handshake's span with its outcome: <c>accepted</c> once the connection joined its room, otherwise <c>rejected</c>.</summary>
    public static void StopConnect(Activity span, ServerConnection connection)
    {
        if (span.IsAllDataRequested)
        {
            span.SetTag("realtime.connect.outcome", connection.Joined ? "accepted" : "rejected");
        }

        span.Stop();
    }

    /// <summary>
    /// Starts a message's span: a child of the trace context the client sent with it, otherwise a root (never of the activity that was
    /// current on the long-lived upgrade request), linked to the sender's <c>realtime.connect</c> span. Called where the application
    /// runs, so that <see cref="Activity.Current"/> in middleware and hooks is this span; the caller's scope ends the override.
    /// </summary>
    public static Activity? StartMessage(ServerConnection connection, in Message message, WireTraceContext? trace)
    {
        Activity.Current = null;
        Activity? span = Source.StartActivity(MessageSpan, ActivityKind.Consumer, ParentOf(trace), links: connection.ConnectSpanLinks);
        if (span is { IsAllDataRequested: true })
        {
            SetConnectionTags(span, connection);
            span.SetTag("messaging.operation.type", "process");
            if (message.Type is { } type)
            {
                span.SetTag("realtime.message.type", type);
            }

            span.SetTag("messaging.message.body.size", message.IsBinary ? message.Bytes.Length : message.DataUtf8.Length);
        }

        return span;
    }

    /// <summary>Marks the span of the handshake or message being processed as failed (middleware threw; the error is logged too).</summary>
    public static void Failed(Activity? span, Exception exception)
    {
        if (span is { IsAllDataRequested: true })
        {
            span.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
            span.SetTag("error.type", exception.GetType().FullName);
        }
    }

    /// <summary>The current activity when it is a message's span of this server (for code that runs inside it but was not handed it).</summary>
    public static Activity? CurrentMessageSpan
        => Activity.Current is { } current && ReferenceEquals(current.Source, Source) && current.OperationName == MessageSpan ? current : null;

    private static void SetConnectionTags(Activity span, ServerConnection connection)
    {
        span.SetTag("messaging.system", "realtime");
        span.SetTag("messaging.destination.name", connection.RoomId);
        span.SetTag("messaging.client.id", connection.Id);
        KeyValuePair<string, object?> protocol = MetricTags.Protocol(connection.Protocol); // the metrics' value, so traces and metrics agree
        span.SetTag(protocol.Key, protocol.Value);
    }

    /// <summary>The client's trace context as a parent, or <see langword="default"/> when it sent none or one that is not valid W3C.</summary>
    private static ActivityContext ParentOf(WireTraceContext? trace)
        => trace is not null && ActivityContext.TryParse(trace.TraceParent, trace.TraceState, isRemote: true, out ActivityContext parent) ? parent : default;
}
