namespace Realtime.Server;

/// <summary>
/// Middleware for connections or messages. Call <paramref name="next"/> to let the connection or
/// message through; return without calling it to stop it (a connection is then rejected, a
/// message dropped silently); call <c>context.Reject(message)</c> to stop it with a message.
/// </summary>
/// <typeparam name="TContext"><see cref="ConnectContext"/> or <see cref="MessageContext"/>.</typeparam>
/// <param name="context">The connection or message.</param>
/// <param name="next">The rest of the pipeline.</param>
/// <returns>A task that completes when this middleware is done.</returns>
public delegate ValueTask RealtimeMiddleware<TContext>(TContext context, Func<ValueTask> next);
