using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Realtime.Server.Diagnostics;
using Realtime.Server.Internal.Protocols;

namespace Realtime.Server.Internal.Dense;

/// <summary>
/// One connection of the dense listener: Kestrel's transport with no HTTP pipeline on it. Its request head is read by the strict
/// parser within the handshake timeout; then a minimal <see cref="HttpContext"/> (the request line, headers and remote address,
/// a WebSocket handshake of its own and an upgrade feature over the raw pipes) goes into the same endpoint handler as
/// <c>MapRealtime</c>, so refusals, limits, origin checks and the connection itself behave alike. The context lives only as long as
/// the connection's handshake needs it: once its connect middleware has run, an
/// idle connection holds nothing of HTTP.
/// </summary>
internal static class DenseConnection
{
    public static async Task RunAsync(ConnectionContext connection, RealtimeServer server, RealtimeProtocol protocol, string path)
    {
        // Two steps, so that nothing of the request (its head, headers, features) outlives the handshake in this method's state.
        Task? run;
        try
        {
            run = await AcceptAsync(connection, server, protocol, path).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            return; // the client reset or closed the connection during its handshake: there is no one to answer
        }

        if (run is not null)
        {
            await run.ConfigureAwait(false);
        }
    }

    /// <summary>Reads the head and answers it: an HTTP error, or the upgrade; returns the accepted connection's run, or <see langword="null"/>.</summary>
    private static async Task<Task?> AcceptAsync(ConnectionContext connection, RealtimeServer server, RealtimeProtocol protocol, string path)
    {
        Http1RequestHead? head;
        using (var timeout = new CancellationTokenSource(server.Options.HandshakeTimeout, server.Time))
        {
            // The read ends by itself when the connection closes; the token adds the handshake timeout and the server's shutdown
            // (a server stopped already still reads the head within the timeout, to answer it with 503).
            bool stoppable = server.Shutdown.AddHeadRead(timeout);
            try
            {
                head = await ReadHeadAsync(connection, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                head = null; // too slow, or the server is shutting down: nothing to answer
            }
            finally
            {
                if (stoppable)
                {
                    server.Shutdown.RemoveHeadRead(timeout);
                }
            }
        }

        if (head is null)
        {
            return null;
        }

        if (!string.Equals(head.Path, path, StringComparison.Ordinal))
        {
            await WriteResponseAsync(connection.Transport.Output, 404, "text/plain; charset=utf-8", "Nothing is served at this path on this listener.\n", new HeaderDictionary()).ConfigureAwait(false);
            return null;
        }

        FeatureCollection features = Features(connection, head, out MemoryStream response, out PipeUpgradeFeature upgrade);
        if (DenseWebSocketFeature.Install(features, head) is { } refusal)
        {
            RealtimeLog.RequestRefused(server.Logger, refusal.StatusCode, refusal.Body.TrimEnd());
            await WriteResponseAsync(connection.Transport.Output, refusal.StatusCode, refusal.ContentType, refusal.Body, new HeaderDictionary()).ConfigureAwait(false);
            return null;
        }

        var context = new DefaultHttpContext(features);
        GracefulUpgradeFeature.Install(context);
        if (await RealtimeEndpointHandler.AdmitAsync(context, server, protocol, connection.Abort).ConfigureAwait(false) is { } admitted)
        {
            return RealtimeEndpointHandler.RunAsync(admitted, context);
        }

        if (!upgrade.Upgraded)
        {
            await WriteResponseAsync(connection.Transport.Output, context.Response.StatusCode, context.Response.ContentType ?? "text/plain; charset=utf-8",
                Encoding.UTF8.GetString(response.ToArray()), context.Response.Headers).ConfigureAwait(false);
        }

        return null;
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
        var headers = new HeaderDictionary(head.Headers.Count);
        foreach ((string name, string value) in head.Headers)
        {
            headers.Append(name, value);
        }

        var features = new FeatureCollection(initialCapacity: 12); // the request's features and those the context adds (query, user)
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
        public bool IsUpgradableRequest => !Upgraded;

        public bool Upgraded { get; private set; }

        public async Task<Stream> UpgradeAsync()
        {
            if (Upgraded)
            {
                throw new InvalidOperationException("The request was upgraded already.");
            }

            Upgraded = true;
            PipeWriter output = connection.Transport.Output;
            Write(output, "HTTP/1.1 101 Switching Protocols\r\n"u8);
            var headers = (HeaderDictionary)features.Get<IHttpResponseFeature>()!.Headers; // the struct enumerator: nothing boxed
            foreach ((string name, Microsoft.Extensions.Primitives.StringValues values) in headers)
            {
                foreach (string? value in values)
                {
                    Write(output, name);
                    Write(output, ": "u8);
                    Write(output, value ?? string.Empty);
                    Write(output, "\r\n"u8);
                }
            }

            Write(output, "\r\n"u8);
            await output.FlushAsync().ConfigureAwait(false);
            return new DuplexPipeStream(connection.Transport.Input, connection.Transport.Output);
        }

        private static void Write(PipeWriter output, ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(output.GetSpan(bytes.Length));
            output.Advance(bytes.Length);
        }

        /// <summary>Header names and values, which the handshake made: ASCII by construction.</summary>
        private static void Write(PipeWriter output, string text) => output.Advance(Encoding.ASCII.GetBytes(text, output.GetSpan(text.Length)));
    }
}
