using System.Diagnostics;
using Realtime.Protocol;
using Realtime.Server.Diagnostics;

namespace Realtime.Server.Internal.Connections;

/// <summary>
/// One message through the application: to the feature that claims its type, if one does (<see cref="RealtimeFeature"/>); otherwise
/// message middleware (skipped when none is registered), then the message hooks, inside a <c>realtime.message</c> span while
/// something listens to the server's spans (<see cref="RealtimeActivities"/>).
/// </summary>
internal static class MessagePipeline
{
    /// <param name="connection">The sender.</param>
    /// <param name="message">Its message.</param>
    /// <param name="trace">The trace context the client sent with it, or <see langword="null"/>.</param>
    public static ValueTask ProcessAsync(ServerConnection connection, Message message, WireTraceContext? trace = null)
    {
        RealtimeServer server = connection.Server;
        if (server.Node.Features.Claimant(message.Type) is { } feature)
        {
            return server.Node.Features.HandleAsync(feature, connection, message); // a feature's own: no middleware, no hook, no relay
        }

        return RealtimeActivities.Enabled ? TracedAsync(connection, message, trace) : ToApplicationAsync(connection, message);
    }

    /// <summary>The application's part inside the message's span; being an async method, it also scopes the span as the current activity.</summary>
    private static async ValueTask TracedAsync(ServerConnection connection, Message message, WireTraceContext? trace)
    {
        using Activity? span = RealtimeActivities.StartMessage(connection, message, trace);
        await ToApplicationAsync(connection, message).ConfigureAwait(false);
    }

    private static ValueTask ToApplicationAsync(ServerConnection connection, Message message)
    {
        RealtimeServer server = connection.Server;
        var context = new MessageContext(connection, message);
        return server.Hooks.MessageMiddleware.IsEmpty
            ? server.Hooks.Message.InvokeAsync(context, server.Logger, connection.Id)
            : ThroughMiddlewareAsync(server, context);
    }

    private static async ValueTask ThroughMiddlewareAsync(RealtimeServer server, MessageContext context)
    {
        ServerConnection connection = context.Connection;
        bool passed = false;
        try
        {
            await server.Hooks.MessageMiddleware.InvokeAsync(context, () =>
            {
                passed = true;
                return ValueTask.CompletedTask;
            }).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            RealtimeLog.MessageMiddlewareFailed(server.Logger, connection.Id, ex);
            RealtimeActivities.Failed(RealtimeActivities.CurrentMessageSpan, ex);
            connection.SendError("Internal server error");
            return;
        }

        if (context.RejectMessage is not null)
        {
            connection.SendError(context.RejectMessage);
        }
        else if (passed)
        {
            await server.Hooks.Message.InvokeAsync(context, server.Logger, connection.Id).ConfigureAwait(false);
        }
    }
}
