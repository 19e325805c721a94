using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Realtime.Server.Tests;

/// <summary>
/// The runnable host, as a child process on real Kestrel, serves the <c>Realtime.Server</c> instruments at <c>/metrics</c> in
/// Prometheus text format (docs/operations.md), with the values of the traffic a test made, and serves nothing there when
/// <c>Realtime:Metrics:Prometheus</c> is false.
/// </summary>
public class HostMetricsEndpointTests
{
    /// <summary>
    /// The documented instruments, by their Prometheus family name (docs/server.md's catalog; the exporter turns dots into
    /// <c>_</c> and adds <c>_total</c> to counters, <c>_seconds</c>/<c>_bytes</c> to units <c>s</c>/<c>By</c>), each with its
    /// Prometheus type and its value after <see cref="MakeTrafficAsync"/>: summed over the family's series (any labels), and for
    /// a histogram its <c>_count</c>. Add a row for each instrument the catalog gains.
    /// </summary>
    private static readonly ExpectedFamily[] Expected =
    [
        ExpectedFamily.Exactly("realtime_server_connections", "gauge", 2), // ann and bob; carl has gone
        ExpectedFamily.Exactly("realtime_server_connection_duration_seconds", "histogram", 1), // carl's
        ExpectedFamily.Exactly("realtime_server_rooms", "gauge", 1),
        ExpectedFamily.Exactly("realtime_server_messages_received_total", "counter", 2),
        ExpectedFamily.Exactly("realtime_server_messages_sent_total", "counter", 2), // each relayed to one member
        ExpectedFamily.AtLeast("realtime_server_bytes_received_bytes_total", "counter", 1),
        ExpectedFamily.AtLeast("realtime_server_bytes_sent_bytes_total", "counter", 1),
        ExpectedFamily.Exactly("realtime_server_broadcast_recipients", "histogram", 2),
        ExpectedFamily.Exactly("realtime_server_message_duration_seconds", "histogram", 2),
        ExpectedFamily.Exactly("realtime_server_outbound_queued_at_close", "histogram", 1),
        ExpectedFamily.Exactly("realtime_server_outbound_queued_bytes_at_close_bytes", "histogram", 1),
        ExpectedFamily.Exactly("realtime_server_refusals_total", "counter", 1), // the plain GET
        ExpectedFamily.Exactly("realtime_server_disconnects_total", "counter", 1),
    ];

    [Fact]
    public async Task The_host_serves_the_Realtime_instruments_at_metrics_in_Prometheus_text_format()
    {
        await using HostProcess host = await HostProcess.StartAsync(new Dictionary<string, string>());
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{host.Port}") };
        await using Connection ann = await new Client.Client(host.Url).ConnectAsync("room1").DefaultTimeout();
        await using Connection bob = await new Client.Client(host.Url).ConnectAsync("room1").DefaultTimeout();
        await MakeTrafficAsync(ann, bob, host.Url);

        // A plain GET of the WebSocket endpoint is refused (400): one refusal, reason bad_request.
        HttpResponseMessage refused = await http.GetAsync(new Uri("/realtime", UriKind.Relative)).DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);

        // The server counts carl's disconnect once it has seen the close, after carl's side is done: scraped until it shows.
        PrometheusText metrics = await ScrapeUntilAsync(http, scraped => scraped.Sum("realtime_server_disconnects_total") >= 1
            && scraped.Sum("realtime_server_connection_duration_seconds_count") >= 1 && scraped.Sum("realtime_server_outbound_queued_at_close_count") >= 1);

        foreach (ExpectedFamily expected in Expected)
        {
            Assert.True(metrics.Types.TryGetValue(expected.Family, out string? type), $"No '# TYPE {expected.Family}' line in:\n{metrics.Text}");
            Assert.Equal(expected.Type, type);
            Assert.True(metrics.Helps.TryGetValue(expected.Family, out string? help) && help.Length > 0, $"No '# HELP {expected.Family}' line with a description.");
            double value = metrics.Sum(expected.Type == "histogram" ? expected.Family + "_count" : expected.Family);
            Assert.True(expected.Matches(value), $"{expected.Family} is {value.ToString(CultureInfo.InvariantCulture)}, expected {expected}. The scrape:\n{metrics.Text}");
        }

        Assert.Contains("realtime_refusal_reason=\"bad_request\"", metrics.Text, StringComparison.Ordinal);
        Assert.Contains("realtime_disconnect_reason=\"client_disconnect\"", metrics.Text, StringComparison.Ordinal);

        // Labels are low-cardinality values the server chose: never a room or a connection id.
        Assert.DoesNotContain("room1", metrics.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(ann.Id!, metrics.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_Realtime_Metrics_Prometheus_false_there_is_no_metrics_endpoint()
    {
        await using HostProcess host = await HostProcess.StartAsync(new Dictionary<string, string> { ["Realtime__Metrics__Prometheus"] = "false" });
        using var http = new HttpClient();

        HttpResponseMessage metrics = await http.GetAsync(new Uri($"http://127.0.0.1:{host.Port}/metrics")).DefaultTimeout();

        Assert.Equal(HttpStatusCode.NotFound, metrics.StatusCode);
    }

    [Fact]
    public async Task With_OTEL_EXPORTER_OTLP_ENDPOINT_set_the_host_exports_the_Realtime_metrics_and_its_traces_over_OTLP()
    {
        await using OtlpReceiver receiver = await OtlpReceiver.StartAsync();
        await using HostProcess host = await HostProcess.StartAsync(new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Url,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "200", // milliseconds, for the test: 60 s by default
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["Realtime__Tracing__SampleRatio"] = "1", // every trace (outside Development the default is one in twenty)
        });

        Connection ann = await new Client.Client(host.Url).ConnectAsync("room1").DefaultTimeout();
        await ann.DisposeAsync(); // its WebSocket request ends: a finished span

        // OTLP is protobuf, whose strings are UTF-8 as they are: the instrument's name, the service's, the request's route.
        await receiver.WaitForAsync("/v1/metrics", "realtime.server.connections");
        await receiver.WaitForAsync("/v1/metrics", "realtime-server");
        await receiver.WaitForAsync("/v1/traces", "/realtime");
    }

    /// <summary>Ann sends bob two messages through the relay, and carl connects and leaves.</summary>
    private static async Task MakeTrafficAsync(Connection ann, Connection bob, string url)
    {
        var atBob = new ConnectionRecorder(bob);
        ann.Send("hello", "chat");
        ann.Send("again", "chat");
        await atBob.WaitForCountAsync("message:chat", 2);
        Connection carl = await new Client.Client(url).ConnectAsync("room1").DefaultTimeout();
        await carl.DisposeAsync();
    }

    private static async Task<PrometheusText> ScrapeUntilAsync(HttpClient http, Func<PrometheusText, bool> condition)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            HttpResponseMessage response = await http.GetAsync(new Uri("/metrics", UriKind.Relative), deadline.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
            var scraped = new PrometheusText(await response.Content.ReadAsStringAsync(deadline.Token));
            if (condition(scraped))
            {
                return scraped;
            }

            Assert.False(deadline.IsCancellationRequested, $"The condition never held. The last scrape:\n{scraped.Text}");
            await Task.Delay(100, deadline.Token); // sleep-ok: a scrape is cached for 300 ms and raises no event; polled within the deadline
        }
    }

    /// <summary>A family the scrape must have, its Prometheus type, and the value it must have.</summary>
    private sealed record ExpectedFamily(string Family, string Type, double Value, bool OrMore)
    {
        public static ExpectedFamily Exactly(string family, string type, double value) => new(family, type, value, OrMore: false);

        public static ExpectedFamily AtLeast(string family, string type, double value) => new(family, type, value, OrMore: true);

        public bool Matches(double value) => OrMore ? value >= Value : value == Value;

        public override string ToString() => (OrMore ? "at least " : "exactly ") + Value.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The Prometheus text exposition format (version 0.0.4), read as far as these tests need.</summary>
    private sealed class PrometheusText
    {
        private readonly List<(string Name, double Value)> _samples = [];

        public PrometheusText(string text)
        {
            Text = text;
            foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (line.StartsWith("# TYPE ", StringComparison.Ordinal) || line.StartsWith("# HELP ", StringComparison.Ordinal))
                {
                    string[] parts = line.Split(' ', 4);
                    (line[2] == 'T' ? Types : Helps)[parts[2]] = parts.Length > 3 ? parts[3] : "";
                }
                else if (!line.StartsWith('#'))
                {
                    // name{label="value",...} value [timestamp]: label values may hold spaces, so the name ends at '{' or ' '.
                    int nameEnd = line.IndexOfAny(['{', ' ']);
                    int valueStart = line[nameEnd] == '{' ? line.LastIndexOf('}') + 2 : nameEnd + 1;
                    string value = line[valueStart..].Split(' ')[0];
                    _samples.Add((line[..nameEnd], double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture)));
                }
            }
        }

        public string Text { get; }

        public Dictionary<string, string> Types { get; } = [];

        public Dictionary<string, string> Helps { get; } = [];

        /// <summary>The sum of every sample of that name, whatever its labels.</summary>
        public double Sum(string name) => _samples.Where(sample => sample.Name == name).Sum(sample => sample.Value);
    }

    /// <summary>An OTLP/HTTP receiver on loopback: it keeps the protobuf bodies posted to each path, answering 200 with no body.</summary>
    private sealed class OtlpReceiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly WatchedList<(string Path, string Body)> _posts = new();

        private OtlpReceiver(WebApplication app) => _app = app;

        public string Url => _app.Urls.Single();

        public static async Task<OtlpReceiver> StartAsync()
        {
            WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            WebApplication app = builder.Build();
            var receiver = new OtlpReceiver(app);
            app.MapPost("/v1/{signal}", async (HttpContext context) =>
            {
                using var body = new MemoryStream();
                await context.Request.Body.CopyToAsync(body, context.RequestAborted);
                receiver._posts.Add((context.Request.Path.Value!, System.Text.Encoding.UTF8.GetString(body.ToArray())));
            });
            await app.StartAsync().DefaultTimeout("the OTLP receiver to start");
            return receiver;
        }

        public Task WaitForAsync(string path, string text) =>
            _posts.WaitForAsync(posts => posts.Any(post => post.Path == path && post.Body.Contains(text, StringComparison.Ordinal)), $"'{text}' posted to {path}");

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
