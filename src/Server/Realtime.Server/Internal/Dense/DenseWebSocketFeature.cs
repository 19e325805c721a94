using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Realtime.Server.Internal.Protocols;

namespace Realtime.Server.Internal.Dense;

/// <summary>
/// The WebSocket handshake of the dense listener (RFC 6455 §4.2), done here rather than by ASP.NET Core's WebSocket middleware,
/// whose stream wrapper keeps the whole <see cref="HttpContext"/> reachable for the life of the socket. The WebSocket made here
/// holds only the upgraded stream, so an idle connection keeps nothing of its request.
/// </summary>
internal sealed class DenseWebSocketFeature : IHttpWebSocketFeature
{
    private const string KeyGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"; // RFC 6455 §1.3

    private readonly IFeatureCollection _features;
    private readonly string? _key;

    /// <summary>The feature for a request whose handshake <see cref="TryReadKey"/> read (<paramref name="key"/> <see langword="null"/> for one that is not a WebSocket request).</summary>
    public DenseWebSocketFeature(IFeatureCollection features, string? key)
    {
        _features = features;
        _key = key;
    }

    /// <summary>Whether the head asks for a WebSocket, version 13, with a valid key (RFC 6455 §4.2.1).</summary>
    public bool IsWebSocketRequest => _key is not null;

    /// <summary>
    /// Reads the WebSocket handshake of <paramref name="head"/>: its key, or <see langword="null"/> for a request that does not ask
    /// for a WebSocket at all (left to the protocol, which refuses it with its own words); <see langword="false"/> with the refusal
    /// for one that asks badly: 426 for another WebSocket version (the answer names version 13), 400 for a missing or invalid key.
    /// </summary>
    public static bool TryReadKey(Http1RequestHead head, out string? key, out HttpRefusal refusal)
    {
        key = null;
        refusal = default;
        bool asks = string.Equals(head.Method, "GET", StringComparison.Ordinal)
                    && HasToken(head["Upgrade"], "websocket")
                    && HasToken(head["Connection"], "Upgrade");
        if (!asks)
        {
            return true;
        }

        if (!string.Equals(head["Sec-WebSocket-Version"], "13", StringComparison.Ordinal))
        {
            refusal = HttpRefusal.Text(StatusCodes.Status426UpgradeRequired, "Only WebSocket version 13 is supported.");
            return false;
        }

        key = head["Sec-WebSocket-Key"];
        if (!IsValidKey(key))
        {
            key = null;
            refusal = HttpRefusal.Text(StatusCodes.Status400BadRequest, "Sec-WebSocket-Key must be 16 bytes in base64.");
            return false;
        }

        return true;
    }

    /// <summary>Answers 101 with the accept key (and the chosen subprotocol), then runs the WebSocket over the upgraded stream.</summary>
    public async Task<WebSocket> AcceptAsync(WebSocketAcceptContext context)
    {
        if (_key is null)
        {
            throw new InvalidOperationException("Not a WebSocket request.");
        }

        IHeaderDictionary headers = _features.Get<IHttpResponseFeature>()!.Headers;
        headers.Upgrade = "websocket";
        headers.Connection = "Upgrade";
        headers.SecWebSocketAccept = AcceptKey(_key);
        if (context.SubProtocol is { } subProtocol)
        {
            headers.SecWebSocketProtocol = subProtocol;
        }

        Stream stream = await _features.Get<IHttpUpgradeFeature>()!.UpgradeAsync().ConfigureAwait(false);
        return WebSocket.CreateFromStream(stream, new WebSocketCreationOptions
        {
            IsServer = true,
            SubProtocol = context.SubProtocol,
            KeepAliveInterval = context.KeepAliveInterval ?? TimeSpan.Zero,
        });
    }

    /// <summary>The <c>Sec-WebSocket-Accept</c> value for a key (RFC 6455 §4.2.2).</summary>
    internal static string AcceptKey(string key) => Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + KeyGuid)));

    private static bool IsValidKey(string? key)
    {
        Span<byte> bytes = stackalloc byte[18];
        return key is { Length: 24 } && Convert.TryFromBase64String(key, bytes, out int written) && written == 16;
    }

    /// <summary>Whether a comma-separated header value holds <paramref name="token"/> (case-insensitively).</summary>
    private static bool HasToken(string? value, string token)
    {
        if (value is null)
        {
            return false;
        }

        foreach (Range part in value.AsSpan().Split(','))
        {
            if (value.AsSpan()[part].Trim().Equals(token, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
