using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

/// <summary>
/// The host's OpenTelemetry (docs/operations.md): the <c>Realtime.Server</c> meter, with ASP.NET Core's, Kestrel's and the runtime's,
/// scraped by Prometheus at <c>/metrics</c> (on unless <c>Realtime:Metrics:Prometheus</c> is false), and everything, the
/// <c>Realtime.Server</c> traces included, exported over OTLP when the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
/// Without an OTLP endpoint nothing listens to the traces, so no span is made.
/// </summary>
internal static class Telemetry
{
    /// <summary>Whether <c>/metrics</c> is served; <c>true</c> when not set.</summary>
    internal const string PrometheusKey = "Realtime:Metrics:Prometheus";

    /// <summary>The standard OpenTelemetry variable (or configuration key) that turns the OTLP exporter on.</summary>
    internal const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The share of traces recorded, 0 to 1 (by trace id, so a client and the server that use one ratio agree on a trace).</summary>
    internal const string SampleRatioKey = "Realtime:Tracing:SampleRatio";

    /// <summary>The Realtime server's meter and activity source (and the Redis backplane's instruments, on the same meter).</summary>
    private const string RealtimeSource = "Realtime.Server";

    /// <summary>The paths scrapers and probes hit every few seconds: no trace of their own.</summary>
    private static readonly PathString[] Untraced = ["/metrics", "/healthz"];

    /// <summary>Registers the meter provider (and with OTLP the tracer provider and the log exporter) as configured.</summary>
    public static void AddWhenConfigured(WebApplicationBuilder builder)
    {
        bool prometheus = PrometheusEnabled(builder.Configuration);
        bool otlp = builder.Configuration[OtlpEndpointKey] is { Length: > 0 };
        if (!prometheus && !otlp)
        {
            return;
        }

        IOpenTelemetryBuilder telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                // OTEL_SERVICE_NAME, when set, names the service instead.
                if (builder.Configuration["OTEL_SERVICE_NAME"] is not { Length: > 0 })
                {
                    resource.AddService("realtime-server");
                }
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(RealtimeSource, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Runtime");
                if (prometheus)
                {
                    metrics.AddPrometheusExporter();
                }
            });
        if (otlp)
        {
            // OTEL_EXPORTER_OTLP_PROTOCOL (grpc, the default, or http/protobuf), OTEL_EXPORTER_OTLP_HEADERS and the rest of the
            // standard variables are read by the exporter itself.
            // Every message a hook handles is a span: in production, record a share of them. A client's sampled flag does not decide
            // (a client could otherwise have every one of its messages recorded): the ratio applies to a trace a client started too.
            var ratio = new TraceIdRatioBasedSampler(SampleRatio(builder));
            telemetry.WithTracing(tracing => tracing
                    .SetSampler(new ParentBasedSampler(ratio, remoteParentSampled: ratio, remoteParentNotSampled: ratio,
                                                       localParentSampled: new AlwaysOnSampler(), localParentNotSampled: new AlwaysOffSampler()))
                    .AddSource(RealtimeSource)
                    .AddAspNetCoreInstrumentation(aspNetCore => aspNetCore.Filter = context => !Untraced.Any(path => context.Request.Path.StartsWithSegments(path))))
                .UseOtlpExporter();
        }
    }

    /// <summary>Serves the Prometheus scrape endpoint at <c>/metrics</c> when it is on.</summary>
    public static void MapWhenConfigured(WebApplication app)
    {
        if (PrometheusEnabled(app.Configuration))
        {
            app.MapPrometheusScrapingEndpoint("/metrics");
        }
    }

    /// <summary><see cref="SampleRatioKey"/>, or by default every trace in Development and one in twenty elsewhere.</summary>
    private static double SampleRatio(WebApplicationBuilder builder)
    {
        double ratio = builder.Configuration.GetValue(SampleRatioKey, builder.Environment.IsDevelopment() ? 1.0 : 0.05);
        return ratio is >= 0 and <= 1
            ? ratio
            : throw new InvalidOperationException($"{SampleRatioKey} is {ratio}: it must be between 0 and 1.");
    }

    private static bool PrometheusEnabled(IConfiguration configuration) => configuration.GetValue(PrometheusKey, defaultValue: true);
}
