using Microsoft.AspNetCore.Http;

namespace Realtime.Server;

/// <summary>A connection being accepted: what connect middleware and <see cref="ServerEvents.Connect"/> hooks receive.</summary>
public sealed class ConnectContext
{
    internal ConnectContext(ServerConnection connection, HttpContext httpContext)
    {
        Connection = connection;
        HttpContext = httpContext;
    }

    /// <summary>The connection. During connect middleware it is not yet connected; its <see cref="ServerConnection.Auth"/>, <see cref="ServerConnection.Query"/> and <see cref="ServerConnection.Tags"/> are usable.</summary>
    public ServerConnection Connection { get; }

    /// <summary>The room the connection asks to join.</summary>
    public string RoomId => Connection.RoomId;

    /// <summary>The HTTP request that was upgraded (its <c>User</c>, headers, services).</summary>
    public HttpContext HttpContext { get; }

    internal string? RejectMessage { get; private set; }

    /// <summary>Refuses the connection: the client receives a <c>reject</c> frame with <paramref name="message"/>, then close 4002, and does not reconnect.</summary>
    /// <param name="message">The text for the client application, for example <c>"Authentication failed"</c>.</param>
    /// <remarks>Call it in connect middleware before <c>next</c> (or instead of it); after <c>next</c> has accepted the connection it throws.</remarks>
    /// <exception cref="InvalidOperationException">The connection was already accepted.</exception>
    public void Reject(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (Connection.Accepted)
        {
            throw new InvalidOperationException("The connection was already accepted (next() ran); Reject must be called before next().");
        }

        RejectMessage = message;
    }
}
