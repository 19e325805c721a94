using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Realtime.Server.Internal.Documents;

/// <summary>Runs one action's middleware chain; a refusal comes out as a <see cref="DocumentException"/>.</summary>
internal static class DocumentMiddlewareRunner
{
    /// <summary>Whether an action has middleware (a request builds no context when it has none).</summary>
    public static bool Has(DocumentOptions options, DocumentAction action) => options.MiddlewareOf(action).Length > 0;

    /// <summary>Runs the chain of <paramref name="context"/>'s action.</summary>
    /// <exception cref="DocumentException">A middleware rejected, threw, or returned without calling <c>next</c>.</exception>
    public static async ValueTask RunAsync(DocumentOptions options, DocumentContext context, ILogger logger)
    {
        DocumentMiddleware[] chain = options.MiddlewareOf(context.Action);
        if (chain.Length == 0)
        {
            return;
        }

        int reached = 0;
        ValueTask Next(int index)
        {
            reached = index;
            return index == chain.Length || context.RejectionCode is not null ? ValueTask.CompletedTask : chain[index](context, () => Next(index + 1));
        }

        try
        {
            await Next(0).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            DocumentLog.MiddlewareFailed(logger, context.Action, context.DocumentId, ex);
            throw new DocumentException(DocumentErrorCodes.Unknown, "Internal server error");
        }

        if (context.RejectionCode is { } code)
        {
            throw new DocumentException(code, context.RejectionMessage ?? "Refused");
        }

        if (reached != chain.Length)
        {
            throw new DocumentException(DocumentContext.DefaultCode(context.Action), "Refused");
        }
    }

    /// <summary>Runs an action's chain when it has one.</summary>
    public static ValueTask RunAsync(DocumentOptions options, DocumentAction action, string documentId, ServerConnection? connection, JsonElement request,
                                     ILogger logger, Action<DocumentContext>? fill = null)
    {
        if (!Has(options, action))
        {
            return ValueTask.CompletedTask;
        }

        var context = new DocumentContext(action, documentId, connection, request);
        fill?.Invoke(context);
        return RunAsync(options, context, logger);
    }
}
