using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Realtime.Server.Internal.Protocols;

/// <summary>
/// What the admission of a connection and its protocol read from a WebSocket upgrade request, whichever listener received it: an
/// ASP.NET Core endpoint fills it in from its request (<see cref="Of"/>), the dense listener from the head it parsed itself. The
/// listener has matched the path already, and decided whether the request is a WebSocket handshake it can complete.
/// </summary>
/// <param name="IsWebSocketRequest">Whether the request is a WebSocket handshake the listener can accept.</param>
/// <param name="SubProtocols">The subprotocols the client offers (<c>Sec-WebSocket-Protocol</c>), in its order; empty when none.</param>
/// <param name="Query">The query, percent-decoded, every value of every key.</param>
/// <param name="Origin">The <c>Origin</c> header's values (a browser sends one).</param>
/// <param name="RemoteAddress">The client's address, for the per-address connection limit; <see langword="null"/> when unknown.</param>
internal readonly record struct UpgradeRequestHead(bool IsWebSocketRequest, IReadOnlyList<string> SubProtocols, IQueryCollection Query, StringValues Origin,
                                                   IPAddress? RemoteAddress)
{
    /// <summary>The head of a request that reached an ASP.NET Core endpoint.</summary>
    public static UpgradeRequestHead Of(HttpContext context)
    {
        IList<string> offered = context.WebSockets.WebSocketRequestedProtocols;
        return new(context.WebSockets.IsWebSocketRequest, offered as IReadOnlyList<string> ?? [.. offered], context.Request.Query,
                   context.Request.Headers.Origin, context.Connection.RemoteIpAddress);
    }
}
