using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Nito.AsyncEx;
using Realtime.Internal;
using Realtime.Protocol;

namespace Realtime.Client.Internal;

/// <summary>
/// Makes one connection attempt of a <see cref="Connection"/>: the URL (the room and <see cref="ConnectOptions.Query"/>), this
/// attempt's <c>hello</c> (its auth read, or asked of <see cref="ConnectOptions.AuthProvider"/>, anew each time) and the
/// <see cref="Transport"/>, opened within <see cref="ClientOptions.Timeout"/>. Every way an attempt fails becomes a
/// <see cref="RealtimeConnectException"/>, except a cancellation by one of the caller's tokens. Holds no state between attempts: what a
/// reconnection offers to recover what it missed is passed in.
/// </summary>
/// <param name="endpoint">The server's endpoint (<see cref="Client.Url"/>).</param>
/// <param name="roomId">The room to join.</param>
/// <param name="connectOptions">The auth and extra query of the connection; read at every attempt.</param>
/// <param name="options">The client's options.</param>
/// <param name="outbound">The connection's send buffer, which each transport drains.</param>
/// <param name="signal">Wakes a transport's send loop.</param>
/// <param name="events">The connection's dispatcher, which each transport raises messages on.</param>
/// <param name="logger">The connection's logger.</param>
/// <param name="trace">The W3C trace context every attempt's <c>hello</c> carries: the activity current when the connection was opened.</param>
internal sealed class Dialer(Uri endpoint, string roomId, ConnectOptions connectOptions, ClientOptions options,
                             ChannelReader<OutboundFrame> outbound, AsyncAutoResetEvent signal, EventDispatcher events, ILogger logger,
                             (string? TraceParent, string? TraceState) trace = default)
{
    /// <summary>One attempt: opens the WebSocket, sends <c>hello</c> and waits for <c>welcome</c>.</summary>
    /// <param name="offer">The resume token and last position of the previous connection, or <see langword="null"/> to offer none.</param>
    /// <param name="closing">The connection's close.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The connected transport.</returns>
    /// <exception cref="RealtimeConnectException">The attempt failed: rejected (<see cref="RealtimeConnectException.IsRejection"/>),
    /// unreachable, closed, the auth provider threw, or <see cref="ClientOptions.Timeout"/> elapsed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="closing"/> or <paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<Transport> OpenAsync(ResumeOffer? offer, CancellationToken closing, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(options.Timeout, options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, closing, cancellationToken);
        try
        {
            Task<ReadOnlyMemory<byte>> hello = EncodeHelloAsync(offer, linked.Token).AsTask();
            try
            {
                return await Transport.OpenAsync(BuildUri(), options, hello, outbound, signal, events, logger, linked.Token).ConfigureAwait(false);
            }
            catch when (!hello.IsCompleted)
            {
                // The upgrade failed first: the provider's answer is no longer wanted.
                await linked.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }
        catch (OperationCanceledException) when (closing.IsCancellationRequested || cancellationToken.IsCancellationRequested)
        {
            // Read on the caller's tokens, not the linked one (cancelled a moment later): the caller tells them apart by these flags.
            throw;
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested)
        {
            throw new RealtimeConnectException($"The connection attempt timed out after {options.Timeout} (ClientOptions.Timeout).", ex);
        }
        catch (Exception ex) when (ex is WebSocketException or HttpRequestException or IOException or InvalidOperationException or
                                       ProtocolException or OperationCanceledException)
        {
            throw new RealtimeConnectException($"Could not connect to {endpoint}: {ex.Message}", ex);
        }
    }

    private Uri BuildUri()
    {
        var query = new StringBuilder("roomId=").Append(Uri.EscapeDataString(roomId));
        if (connectOptions.Query is { } extra)
        {
            foreach (KeyValuePair<string, string> pair in extra)
            {
                if (!string.Equals(pair.Key, "roomId", StringComparison.Ordinal))
                {
                    query.Append('&').Append(Uri.EscapeDataString(pair.Key)).Append('=').Append(Uri.EscapeDataString(pair.Value ?? string.Empty));
                }
            }
        }

        var builder = new UriBuilder(endpoint);
        builder.Query = string.IsNullOrEmpty(builder.Query) ? query.ToString() : builder.Query.TrimStart('?') + "&" + query;
        return builder.Uri;
    }

    /// <summary>
    /// Encodes this attempt's <c>hello</c>: the auth payload is read (or asked of the provider) anew each time. It always asks for
    /// recovery (<c>recover</c>: room positions and a resume token, when the room keeps a history), and offers <paramref name="offer"/>.
    /// </summary>
    private async ValueTask<ReadOnlyMemory<byte>> EncodeHelloAsync(ResumeOffer? offer, CancellationToken cancellationToken)
    {
        object? payload = connectOptions.Auth;
        if (connectOptions.AuthProvider is { } provider)
        {
            try
            {
                payload = await provider(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                throw new RealtimeConnectException($"ConnectOptions.AuthProvider failed: {ex.Message}", ex);
            }
        }

        JsonElement auth = payload is null
            ? default
            : JsonSerializer.SerializeToElement(payload, payload.GetType(), options.JsonSerializerOptions);
        var buffer = new ArrayBufferWriter<byte>();
        FrameWriter.WriteHello(buffer, auth, trace.TraceParent, trace.TraceState, recover: true, offer?.Token, offer?.Position);
        return buffer.WrittenMemory;
    }
}
