using Microsoft.Extensions.Logging;

namespace Realtime.Server.Internal.Documents;

/// <summary><see cref="DocumentOptions.Retention"/>: a document's history is trimmed when a milestone is written.</summary>
internal static class DocumentRetention
{
    /// <summary>Trims the history below the newest milestone made at or before <paramref name="before"/>. A failure is logged and the
    /// history stays as it was (the op that wrote the milestone is committed either way; the next milestone tries again).</summary>
    public static async ValueTask TrimAsync(DocumentStore store, string documentId, DateTimeOffset before, ILogger logger)
    {
        try
        {
            if (await store.TrimAsync(documentId, before, CancellationToken.None).ConfigureAwait(false) is { } from)
            {
                DocumentLog.HistoryTrimmed(logger, documentId, from);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            DocumentLog.TrimFailed(logger, documentId, ex);
        }
    }
}
