using Microsoft.Extensions.Logging;

namespace Realtime.Server.Internal.Documents;

/// <summary><see cref="DocumentOptions.Retention"/>: a document's history is trimmed when a milestone is written.</summary>
internal static class DocumentRetention
{
    /// <summary>The longest one trim may take; past it the trim is cancelled (and tried again at the next milestone).</summary>
    public static readonly TimeSpan TrimTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Trims the history below the newest milestone made at or before <paramref name="before"/>. A failure is logged and the
    /// history stays as it was (the op that wrote the milestone is committed either way; the next milestone tries again).</summary>
    public static async ValueTask TrimAsync(DocumentStore store, string documentId, DateTimeOffset before, ILogger logger)
    {
        try
        {
            // Under the document's gate: a store that hangs must not hold the document's submits for longer than this.
            using var timeout = new CancellationTokenSource(TrimTimeout);
            if (await store.TrimAsync(documentId, before, timeout.Token).ConfigureAwait(false) is { } from)
            {
                DocumentLog.HistoryTrimmed(logger, documentId, from);
            }
        }
        catch (Exception ex)
        {
            DocumentLog.TrimFailed(logger, documentId, ex);
        }
    }
}
