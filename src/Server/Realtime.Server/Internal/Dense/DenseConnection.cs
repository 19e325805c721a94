using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebSockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Realtime.Server.Internal.Protocols;

namespace Realtime.Server.Internal.Dense;

/// <summary>
/// One connection of the dense listener: Kestrel's transport with no HTTP pipeline on it. Its request head is read by the strict
/// parser within the handshake timeout; then a minimal <see cref="HttpContext"/> (the request line, headers and remote address,
/// and an upgrade feature over the raw pipes) goes through ASP.NET Core's own WebSocket handshake into the same endpoint handler as
/// <c>MapRealtime</c>, so refusals, limits, origin checks and the connection itself behave alike. The context lives only as long as
/// the connection's handshake needs it plus the connection's run.
/// </summary>
internal static class DenseConnection
{
    public static async Task RunAsync(ConnectionContext connection, RealtimeServer server, RealtimeProtocol protocol, string path, ILoggerFactory loggers)
    {
        PipeReader input = connection.Transport.Input;
        Http1RequestHead? head;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed))
        {
            timeout.CancelAfter(server.Options.HandshakeTimeout);
            try
            {
                head = await ReadHeadAsync(connection, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                head = null; // too slow, or gone: nothing to answer
            }
        }

        if (head is null)
        {
            return;
        }

        if (!string.Equals(head.Path, path, StringComparison.Ordinal))
        {
            await WriteResponseAsync(connection.Transport.Output, 404, "text/plain; charset=utf-8", "Nothing is served at this path on this listener.\n", new HeaderDictionary()).ConfigureAwait(false);
            return;
        }

        var context = new DefaultHttpContext(Features(connection, head, out var response, out var upgrade));
        var webSockets = new WebSocketMiddleware(c => RealtimeEndpointHandler.HandleAsync(c, server, protocol),
            Options.Create(new Microsoft.AspNetCore.Builder.WebSocketOptions { KeepAliveInterval = TimeSpan.Zero }), loggers);
        GracefulUpgradeFeature.Install(context);
        await webSockets.Invoke(context).ConfigureAwait(false);
        if (!upgrade.Upgraded)
        {
            await WriteResponseAsync(connection.Transport.Output, context.Response.StatusCode, context.Response.ContentType ?? "text/plain; charset=utf-8",
                Encoding.UTF8.GetString(response.ToArray()), context.Response.Headers).ConfigureAwait(false);
        }
    }

    /// <summary>Reads until a complete head; answers and returns <see langword="null"/> for one that is refused.</summary>
    private static async Task<Http1RequestHead?> ReadHeadAsync(ConnectionContext connection, CancellationToken cancellationToken)
    {
        PipeReader input = connection.Transport.Input;
        while (true)
        {
            ReadResult read = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = read.Buffer;
            switch (Http1RequestHead.TryRead(buffer, out Http1RequestHead? head, out SequencePosition consumed, out int status, out string reason))
            {
                case Http1RequestHead.Status.Complete:
                    input.AdvanceTo(consumed);
                    return head;
                case Http1RequestHead.Status.Invalid:
                    input.AdvanceTo(buffer.End);
                    await WriteResponseAsync(connection.Transport.Output, status, "text/plain; charset=utf-8", reason + "\n", new HeaderDictionary()).ConfigureAwait(false);
                    return null;
                default:
                    if (read.IsCompleted)
                    {
                        return null; // closed before a whole head
                    }

                    input.AdvanceTo(buffer.Start, buffer.End);
                    break;
            }
        }
    }

    private static FeatureCollection Features(ConnectionContext connection, Http1RequestHead head, out MemoryStream response, out PipeUpgradeFeature upgrade)
    {
        var headers = new HeaderDictionary();
        foreach ((string name, string value) in head.Headers)
        {
            headers.Append(name, value);
        }

        var features = new FeatureCollection();
        features.Set<IHttpRequestFeature>(new HttpRequestFeature
        {
            Method = head.Method,
            Protocol = "HTTP/1.1",
            Scheme = connection.Features.Get<Microsoft.AspNetCore.Connections.Features.ITlsHandshakeFeature>() is null ? "http" : "https",
            Path = Uri.UnescapeDataString(head.Path),
            RawTarget = head.Path + head.Query,
            QueryString = head.Query,
            Headers = headers,
        });
        features.Set<IHttpResponseFeature>(new HttpResponseFeature());
        response = new MemoryStream();
        features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(response));
        features.Set<IHttpConnectionFeature>(new HttpConnectionFeature
        {
            ConnectionId = connection.ConnectionId,
            RemoteIpAddress = (connection.RemoteEndPoint as IPEndPoint)?.Address,
            RemotePort = (connection.RemoteEndPoint as IPEndPoint)?.Port ?? 0,
            LocalIpAddress = (connection.LocalEndPoint as IPEndPoint)?.Address,
            LocalPort = (connection.LocalEndPoint as IPEndPoint)?.Port ?? 0,
        });
        features.Set<IHttpRequestLifetimeFeature>(new Lifetime(connection));
        upgrade = new PipeUpgradeFeature(connection, features);
        features.Set<IHttpUpgradeFeature>(upgrade);
        return features;
    }

    /// <summary>A whole HTTP/1.1 response, then the connection closes: the dense listener serves one request per connection.</summary>
    internal static async Task WriteResponseAsync(PipeWriter output, int status, string contentType, string body, IHeaderDictionary headers)
    {
        byte[] content = Encoding.UTF8.GetBytes(body);
        var head = new StringBuilder();
        head.Append("HTTP/1.1 ").Append(status).Append(' ').Append(Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status)).Append("\r\n");
        foreach ((string name, Microsoft.Extensions.Primitives.StringValues values) in headers)
        {
            if (!name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase) && !name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                foreach (string? value in values)
                {
                    head.Append(name).Append(": ").Append(value).Append("\r\n");
                }
            }
        }

        if (status == StatusCodes.Status426UpgradeRequired && !headers.ContainsKey("Sec-WebSocket-Version"))
        {
            head.Append("Sec-WebSocket-Version: 13\r\n");
        }

        head.Append("Content-Type: ").Append(contentType).Append("\r\nContent-Length: ").Append(content.Length).Append("\r\nConnection: close\r\n\r\n");
        await output.WriteAsync(Encoding.ASCII.GetBytes(head.ToString())).ConfigureAwait(false);
        await output.WriteAsync(content).ConfigureAwait(false);
    }

    /// <summary>The request's lifetime is the connection's: aborting it aborts the connection.</summary>
    private sealed class Lifetime(ConnectionContext connection) : IHttpRequestLifetimeFeature
    {
        public CancellationToken RequestAborted { get => connection.ConnectionClosed; set => throw new NotSupportedException(); }

        public void Abort() => connection.Abort();
    }

    /// <summary>The upgrade of this connection: the 101 response ASP.NET Core's handshake prepared, then the raw pipes as the WebSocket's stream.</summary>
    internal sealed class PipeUpgradeFeature(ConnectionContext connection, IFeatureCollection features) : IHttpUpgradeFeature
    {
        public bool IsUpgradableRequest => true;

        public bool Upgraded { get; private set; }

        public async Task<Stream> UpgradeAsync()
        {
            Upgraded = true;
            IHttpResponseFeature response = features.Get<IHttpResponseFeature>()!;
            var head = new StringBuilder("HTTP/1.1 101 Switching Protocols\r\n");
            foreach ((string name, Microsoft.Extensions.Primitives.StringValues values) in response.Headers)
            {
                foreach (string? value in values)
                {
                    head.Append(name).Append(": ").Append(value).Append("\r\n");
                }
            }

            head.Append("\r\n");
            await connection.Transport.Output.WriteAsync(Encoding.ASCII.GetBytes(head.ToString())).ConfigureAwait(false);
            return new DuplexPipeStream(connection.Transport.Input, connection.Transport.Output);
        }
    }
}
