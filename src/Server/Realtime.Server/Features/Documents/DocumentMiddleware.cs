namespace Realtime.Server;

/// <summary>
/// Document middleware (<see cref="DocumentOptions.Use"/>): call <paramref name="next"/> to let the request go on, or
/// <see cref="DocumentContext.Reject(string)"/> to refuse it with an error reply.
/// </summary>
/// <param name="context">The request and what the action knows of it.</param>
/// <param name="next">The rest of the chain.</param>
/// <returns>Completes when the middleware is done.</returns>
/// <remarks>Returning without calling <paramref name="next"/> and without a rejection refuses the request too, with the action's default
/// code and the message <c>Refused</c>. A middleware that throws refuses with code 1000 <c>Internal server error</c> and is logged.</remarks>
public delegate ValueTask DocumentMiddleware(DocumentContext context, Func<ValueTask> next);
