using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Realtime.Server.Internal;

/// <summary>The browser client module, embedded in this assembly, served with an ETag so browsers revalidate cheaply.</summary>
internal static class ClientScript
{
    private const string ResourceName = "Realtime.Server.realtime-client.js";
    private static readonly Lazy<(byte[] Body, string ETag)> Script = new(Load);

    public static Task ServeAsync(HttpContext context)
    {
        (byte[] body, string etag) = Script.Value;
        HttpResponse response = context.Response;
        response.Headers.ETag = etag;
        // Revalidate on every use (a 304 when unchanged), so an upgraded server is picked up at once.
        response.Headers.CacheControl = "public, no-cache";
        response.Headers.XContentTypeOptions = "nosniff";
        if (context.Request.Headers.IfNoneMatch is { Count: > 0 } ifNoneMatch &&
            EntityTagHeaderValue.TryParseList(ifNoneMatch, out IList<EntityTagHeaderValue>? tags) &&
            tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || t.Compare(new EntityTagHeaderValue(etag), useStrongComparison: false)))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        response.ContentType = "text/javascript; charset=utf-8";
        response.ContentLength = body.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    private static (byte[], string) Load()
    {
        using Stream stream = typeof(ClientScript).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        byte[] body = copy.ToArray();
        return (body, "\"" + Convert.ToBase64String(SHA256.HashData(body), 0, 16) + "\"");
    }
}
