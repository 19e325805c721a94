using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Realtime.Server.Diagnostics;
using Realtime.Server.Internal.Protocols;

namespace Realtime.Server.Internal.Dense;

/// <summary>
/// One connection of the dense listener: Kestrel's transport with no HTTP pipeline on it. Its request head is read by the strict
/// parser within the handshake timeout, its WebSocket handshake checked here, and the request admitted by the same code as an
/// endpoint's (<see cref="RealtimeEndpointHandler.TryAdmit"/>, on the neutral <see cref="UpgradeRequestHead"/>), so refusals,
/// limits, origin checks and the protocol's own rules behave alike, for whichever protocol the listener serves. Only an admitted
/// request gets a minimal <see cref="HttpContext"/> (the request line, headers and remote address, the WebSocket handshake of its
/// own and an upgrade feature over the raw pipes), which connect middleware sees; it lives only as long as the connection's
/// handshake needs it: once its connect middleware has run, an idle connection holds nothing of HTTP.
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
            server.Metrics.Refused(MetricTags.Abandoned);
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
                head = await ReadHeadAsync(connection, server, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                head = null; // too slow, or the server is shutting down: nothing to answer
                server.Metrics.Refused(server.Shutdown.IsStopping ? MetricTags.ShuttingDown : MetricTags.HandshakeTimeout);
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

        PipeWriter output = connection.Transport.Output;
        if (!string.Equals(head.Path, path, StringComparison.Ordinal))
        {
            server.Metrics.Refused(MetricTags.BadRequest);
            await WriteResponseAsync(output, HttpRefusal.Text(StatusCodes.Status404NotFound, "Nothing is served at this path on this listener.")).ConfigureAwait(false);
            return null;
        }

        if (!DenseWebSocketFeature.TryReadKey(head, out string? key, out HttpRefusal refusal))
        {
            RealtimeLog.RequestRefused(server.Logger, refusal.StatusCode, refusal.Body.TrimEnd());
            server.Metrics.Refused(MetricTags.BadRequest);
            await WriteResponseAsync(output, refusal).ConfigureAwait(false);
            return null;
        }

        var query = new QueryCollection(QueryHelpers.ParseQuery(head.Query));
        var remote = connection.RemoteEndPoint as IPEndPoint;
        var request = new UpgradeRequestHead(key is not null, head.ListValues("Sec-WebSocket-Protocol"), query, head.Values("Origin"), remote?.Address);
        if (!RealtimeEndpointHandler.TryAdmit(request, server, protocol, out RealtimeEndpointHandler.Admission admission, out refusal))
        {
            await WriteResponseAsync(output, refusal).ConfigureAwait(false);
            return null;
        }

        var context = new DefaultHttpContext(Features(connection, head, query, key));
        GracefulUpgradeFeature.Install(context);
        RealtimeEndpointHandler.Admitted admitted = await RealtimeEndpointHandler.AcceptAsync(context, admission, connection.Abort, dense: true).ConfigureAwait(false);
        return RealtimeEndpointHandler.RunAsync(admitted, context);
    }

    /// <summary>Reads until a complete head; answers and returns <see langword="null"/> for one that is refused.</summary>
    private static async Task<Http1RequestHead?> ReadHeadAsync(ConnectionContext connection, RealtimeServer server, CancellationToken cancellationToken)
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
                    server.Metrics.Refused(MetricTags.BadRequest);
                    await WriteResponseAsync(connection.Transport.Output, HttpRefusal.Text(status, reason)).ConfigureAwait(false);
                    return null;
                default:
                    if (read.IsCompleted)
                    {
                        if (!buffer.IsEmpty)
                        {
                            server.Metrics.Refused(MetricTags.Abandoned); // half a request: a client that gave up
                        }

                        return null; // closed before a whole head (with no byte at all: a port probe or a health check, not counted)
                    }

                    input.AdvanceTo(buffer.Start, buffer.End);
                    break;
            }
        }
    }

    /// <summary>The features of an admitted request's stand-in context: what connect middleware reads, and the upgrade over the raw pipes.</summary>
    private static FeatureCollection Features(ConnectionContext connection, Http1RequestHead head, IQueryCollection query, string? key)
    {
        var headers = new HeaderDictionary(head.Headers.Count);
        foreach ((string name, string value) in head.Headers)
        {
            headers.Append(name, value);
        }

        var features = new FeatureCollection(initialCapacity: 12); // the request's features and those the context adds (user)
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
        features.Set<IQueryFeature>(new QueryFeature(query)); // parsed once, for the admission and for middleware
        features.Set<IHttpResponseFeature>(new HttpResponseFeature()); // the 101's headers
        features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null)); // an upgraded request has no response body
        features.Set<IHttpConnectionFeature>(new HttpConnectionFeature
        {
            ConnectionId = connection.ConnectionId,
            RemoteIpAddress = (connection.RemoteEndPoint as IPEndPoint)?.Address,
            RemotePort = (connection.RemoteEndPoint as IPEndPoint)?.Port ?? 0,
            LocalIpAddress = (connection.LocalEndPoint as IPEndPoint)?.Address,
            LocalPort = (connection.LocalEndPoint as IPEndPoint)?.Port ?? 0,
        });
        features.Set<IHttpRequestLifetimeFeature>(new Lifetime(connection));
        features.Set<IHttpUpgradeFeature>(new PipeUpgradeFeature(connection, features));
        features.Set<IHttpWebSocketFeature>(new DenseWebSocketFeature(features, key));
        return features;
    }

    /// <summary>
    /// A refusal as a whole HTTP/1.1 response, then the connection closes: the dense listener serves one request per connection.
    /// A 426 names the WebSocket version to retry with.
    /// </summary>
    internal static async Task WriteResponseAsync(PipeWriter output, HttpRefusal refusal)
    {
        byte[] content = Encoding.UTF8.GetBytes(refusal.Body);
        var head = new StringBuilder();
        head.Append("HTTP/1.1 ").Append(refusal.StatusCode).Append(' ').Append(ReasonPhrases.GetReasonPhrase(refusal.StatusCode)).Append("\r\n");
        if (refusal.StatusCode == StatusCodes.Status426UpgradeRequired)
        {
            head.Append("Sec-WebSocket-Version: 13\r\n");
        }

        head.Append("Content-Type: ").Append(refusal.ContentType).Append("\r\nContent-Length: ").Append(content.Length).Append("\r\nConnection: close\r\n\r\n");
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
