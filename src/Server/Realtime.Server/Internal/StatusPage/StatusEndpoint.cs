using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;

namespace Realtime.Server.Internal.StatusPage;

/// <summary>
/// The status page's two requests: the page (an embedded HTML file with its CSS and script inline, nothing from elsewhere) and its
/// data (JSON, asked for every second). Both are refused with 403 unless the endpoint requires authorization (a policy named at
/// <c>MapRealtimeStatus</c> or with <c>RequireAuthorization</c>): the page is never open by default.
/// </summary>
internal sealed class StatusEndpoint(RealtimeServer server, StatusMonitor monitor)
{
    public const string Refusal =
        "The Realtime status page is off: it is served only behind an authorization policy. Name one, for example " +
        "app.MapRealtimeStatus(\"/realtime/status\", \"realtime-status\") with builder.Services.AddAuthorization(o => o.AddPolicy(\"realtime-status\", " +
        "p => p.RequireRole(\"ops\"))), or add .RequireAuthorization(...) to it (AllowAnonymous does not open it). See docs/server.md, \"Status page\".";

    private const string ResourceName = "Realtime.Server.status.html";
    private static readonly TimeSpan ClusterTimeout = TimeSpan.FromSeconds(2);
    private static readonly Lazy<(byte[] Body, string ScriptHash)> Page = new(Load);

    public Task ServePageAsync(HttpContext context)
    {
        if (!Protected(context))
        {
            return RefuseAsync(context);
        }

        (byte[] body, string scriptHash) = Page.Value;
        HttpResponse response = context.Response;
        NoStore(response);
        // Only its own inline script and style, and requests to its own origin.
        response.Headers.ContentSecurityPolicy =
            $"default-src 'none'; script-src '{scriptHash}'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
        response.ContentType = "text/html; charset=utf-8";
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    public async Task ServeDataAsync(HttpContext context)
    {
        if (!Protected(context))
        {
            await RefuseAsync(context).ConfigureAwait(false);
            return;
        }

        monitor.Watch();
        IReadOnlyList<RealtimeNodeStatus> nodes;
        string? clusterError = null;
        try
        {
            nodes = await server.Backplane.GetNodesAsync(context.RequestAborted).AsTask().WaitAsync(ClusterTimeout, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            nodes = [];
            clusterError = ex is TimeoutException ? $"The backplane did not answer within {ClusterTimeout.TotalSeconds:0} s." : ex.Message;
        }

        HttpResponse response = context.Response;
        NoStore(response);
        response.ContentType = "application/json; charset=utf-8";
        await using (var json = new Utf8JsonWriter(response.BodyWriter))
        {
            StatusSnapshot.Write(json, server, monitor, nodes, clusterError, server.Time.GetUtcNow());
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Whether authorization guards this endpoint: a policy, named or built, and no <c>AllowAnonymous</c> that would skip it.</summary>
    internal static bool Protected(HttpContext context)
    {
        EndpointMetadataCollection? metadata = context.GetEndpoint()?.Metadata;
        return metadata is not null
               && metadata.GetMetadata<IAllowAnonymous>() is null
               && (metadata.GetMetadata<IAuthorizeData>() is not null || metadata.GetMetadata<AuthorizationPolicy>() is not null);
    }

    private static Task RefuseAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        NoStore(context.Response);
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(Refusal, context.RequestAborted);
    }

    private static void NoStore(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
    }

    /// <summary>The page, and the CSP hash of its one inline script.</summary>
    private static (byte[], string) Load()
    {
        using Stream stream = typeof(StatusEndpoint).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string html = reader.ReadToEnd();
        int start = html.IndexOf("<script>", StringComparison.Ordinal) + "<script>".Length;
        int end = html.IndexOf("</script>", start, StringComparison.Ordinal);
        string script = html[start..end];
        return (Encoding.UTF8.GetBytes(html), "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(script))));
    }
}
