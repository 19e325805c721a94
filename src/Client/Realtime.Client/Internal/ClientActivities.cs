using System.Diagnostics;
using System.Text.Json;
using Realtime.Internal;

namespace Realtime.Client.Internal;

/// <summary>
/// The client's spans, on the <see cref="ActivitySource"/> <see cref="Client.ActivitySourceName"/>, and the W3C trace context its
/// frames carry (docs/protocol.md, "Trace context"). With no listener and no current activity, a send costs one check of each.
/// </summary>
internal static class ClientActivities
{
    public const string SendSpan = "realtime.send";

    public static readonly ActivitySource Source = new(Client.ActivitySourceName, typeof(ClientActivities).Assembly.GetName().Version?.ToString());

    /// <summary>Starts a send's span (a child of the current activity) when a listener samples it; otherwise <see langword="null"/>.</summary>
    public static Activity? StartSend(Connection connection, string? type)
    {
        Activity? span = Source.StartActivity(SendSpan, ActivityKind.Producer);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag("messaging.system", "realtime");
            span.SetTag("messaging.operation.type", "send");
            span.SetTag("messaging.destination.name", connection.RoomId);
            if (connection.Id is { } id)
            {
                span.SetTag("messaging.client.id", id);
            }

            if (type is not null)
            {
                span.SetTag("realtime.message.type", type);
            }
        }

        return span;
    }

    /// <summary>
    /// Encodes a message; a text frame carries the trace context of <paramref name="span"/>, or else of the current activity, when
    /// there is one in the W3C format.
    /// </summary>
    public static OutboundFrame EncodeMessage<T>(T data, string? type, JsonSerializerOptions options, Activity? span)
        => (span ?? Activity.Current) is { IdFormat: ActivityIdFormat.W3C } context
            ? FrameEncoder.EncodeMessage(data, type, options, context.Id, context.TraceStateString)
            : FrameEncoder.EncodeMessage(data, type, options);

    /// <summary>The <c>traceparent</c> and <c>tracestate</c> of the current activity, for a <c>hello</c>; <see langword="null"/>s when there is none in the W3C format.</summary>
    public static (string? TraceParent, string? TraceState) Current()
        => Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? (current.Id, current.TraceStateString) : (null, null);

    /// <summary>Marks a send's span as failed.</summary>
    public static void Failed(Activity? span, Exception exception)
    {
        if (span is { IsAllDataRequested: true })
        {
            span.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
            span.SetTag("error.type", exception.GetType().FullName);
        }
    }
}
