using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Realtime.Client;

/// <summary>Settings of a <see cref="Client"/> and the connections it opens.</summary>
public sealed class ClientOptions
{
    /// <summary>Whether a connection reconnects automatically after it drops (not after <c>Close</c>, a server close or a rejection). Default <see langword="true"/>.</summary>
    public bool Reconnection { get; set; } = true;

    /// <summary>How many reconnection attempts in a row before <see cref="ConnectionEvents.ReconnectFailed"/>. Default <see cref="int.MaxValue"/> (unlimited).</summary>
    public int ReconnectionAttempts { get; set; } = int.MaxValue;

    /// <summary>The delay before the first reconnection attempt; attempt n (from 0) waits <c>min(ReconnectionDelay·2ⁿ, ReconnectionDelayMax)</c>, jittered. Default 1 s.</summary>
    public TimeSpan ReconnectionDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest delay between reconnection attempts, before jitter. Default 5 s.</summary>
    public TimeSpan ReconnectionDelayMax { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The jitter of each delay: it lies in <c>[d·(1 − f), d·(1 + f)]</c>. Default 0.5; 0 to 1.</summary>
    public double RandomizationFactor { get; set; } = 0.5;

    /// <summary>How long one connection attempt may take, from opening the WebSocket to <c>welcome</c>. Default 20 s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How many messages may wait to be sent, also while (re)connecting; past that <c>Send</c> throws and <c>SendAsync</c> waits. Default 1000.</summary>
    public int MaxBufferedMessages { get; set; } = 1000;

    /// <summary>The serializer options of <c>Send</c> and of the <c>Auth</c> payload. Default <see cref="JsonSerializerDefaults.Web"/> (camelCase).</summary>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new(JsonSerializerDefaults.Web);

    /// <summary>Where the client logs (handler exceptions, transport failures); <see langword="null"/> logs nothing.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// Opens the WebSocket instead of a <see cref="ClientWebSocket"/>: it receives the URL, the subprotocols to offer and a
    /// cancellation token. Use it to connect through an in-memory test server
    /// (<c>(uri, protocols, ct) => { var c = testServer.CreateWebSocketClient(); foreach (var p in protocols) c.SubProtocols.Add(p); return c.ConnectAsync(uri, ct); }</c>).
    /// </summary>
    public Func<Uri, string[], CancellationToken, Task<WebSocket>>? WebSocketFactory { get; set; }

    /// <summary>Timers and timeouts read this clock (tests substitute a fake one).</summary>
    internal TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
