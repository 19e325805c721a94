using System.Text.Json;

namespace Realtime.Server;

/// <summary>A message from a client: what message middleware and <see cref="ServerEvents.Message"/> hooks receive.</summary>
public sealed class MessageContext
{
    internal MessageContext(ServerConnection connection, Message message)
    {
        Connection = connection;
        Message = message;
    }

    /// <summary>The sender.</summary>
    public ServerConnection Connection { get; }

    /// <summary>The sender's room.</summary>
    public string RoomId => Connection.RoomId;

    /// <summary>The message. Middleware may replace it (for example to redact it); later middleware and hooks see the replacement.</summary>
    public Message Message { get; set; }

    /// <summary>The message type (<see cref="Message.Type"/>), or <see langword="null"/>.</summary>
    public string? Type => Message.Type;

    /// <summary>The message data (<see cref="Message.Data"/>).</summary>
    public JsonElement Data => Message.Data;

    internal string? RejectMessage { get; private set; }

    /// <summary>Refuses the message: the sender alone receives an <c>error</c> frame with <paramref name="message"/>; hooks do not run; the connection stays open.</summary>
    /// <param name="message">The text for the client application, for example <c>"Not allowed to edit"</c>.</param>
    public void Reject(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        RejectMessage = message;
    }
}
