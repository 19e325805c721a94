using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Realtime.Client.Internal;

namespace Realtime.Client.Tests;

/// <summary>What the client writes of the W3C trace context (the end-to-end trace is asserted in the server's TracingTests).</summary>
public class ClientTracingTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    [Fact]
    public void With_no_current_activity_and_no_span_a_message_is_written_as_before()
    {
        Assert.Null(Activity.Current);
        Assert.Equal("{\"t\":\"msg\",\"type\":\"a\",\"data\":1}", Text(ClientActivities.EncodeMessage(1, "a", Web, span: null)));
        Assert.Equal((null, null), ClientActivities.Current());
    }

    [Fact]
    public void A_message_sent_under_an_activity_carries_its_traceparent_and_tracestate()
    {
        using var activity = new Activity("test.operation");
        activity.SetIdFormat(ActivityIdFormat.W3C);
        activity.TraceStateString = "congo=t61rcWkgMzE";
        activity.Start();

        Assert.Equal($"{{\"t\":\"msg\",\"type\":\"a\",\"data\":1,\"traceparent\":\"{activity.Id}\",\"tracestate\":\"congo=t61rcWkgMzE\"}}",
                     Text(ClientActivities.EncodeMessage(1, "a", Web, span: null)));
        Assert.Equal((activity.Id, "congo=t61rcWkgMzE"), ClientActivities.Current());
        Assert.StartsWith($"00-{activity.TraceId}-{activity.SpanId}-", activity.Id, StringComparison.Ordinal);

        // A binary frame has no room for it.
        Assert.Equal(new byte[] { 0x01, 1, (byte)'b', 7 }, ClientActivities.EncodeMessage(new byte[] { 7 }, "b", Web, span: null).Bytes.ToArray());
    }

    [Fact]
    public void A_send_span_is_the_parent_the_message_carries_and_a_hierarchical_activity_none()
    {
        using var parent = new Activity("test.operation");
        parent.SetIdFormat(ActivityIdFormat.W3C).Start();
        using var span = new Activity("realtime.send");
        span.SetIdFormat(ActivityIdFormat.W3C).Start();
        Assert.Contains($"\"traceparent\":\"{span.Id}\"", Text(ClientActivities.EncodeMessage(1, null, Web, span)), StringComparison.Ordinal);
        span.Stop();
        parent.Stop();

        using var hierarchical = new Activity("legacy");
        hierarchical.SetIdFormat(ActivityIdFormat.Hierarchical).Start();
        Assert.DoesNotContain("traceparent", Text(ClientActivities.EncodeMessage(1, null, Web, span: null)), StringComparison.Ordinal);
        Assert.Equal((null, null), ClientActivities.Current());
    }

    private static string Text(Realtime.Internal.OutboundFrame frame) => Encoding.UTF8.GetString(frame.Bytes.Span);
}
