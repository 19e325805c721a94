using Microsoft.Extensions.Logging;

namespace Realtime.Server.Internal.Documents;

/// <summary>The document service's logs (EventIds 100–119). Never an operation's or a snapshot's content.</summary>
internal static partial class DocumentLog
{
    [LoggerMessage(100, LogLevel.Debug, "Document {DocumentId}: a request (a:{Action}) from connection {ConnectionId} was refused with code {Code}.", EventName = "DocumentRequestRefused")]
    public static partial void RequestRefused(ILogger logger, string documentId, int action, string? connectionId, int code);

    [LoggerMessage(101, LogLevel.Debug, "Connection {ConnectionId} sent an ot-doc message whose data is not a JSON object; closing it, as the original does.", EventName = "DocumentMessageNotObject")]
    public static partial void NotAnObject(ILogger logger, string connectionId);

    [LoggerMessage(102, LogLevel.Error, "Document middleware for {Action} threw on document {DocumentId}; the request is refused with code 1000.", EventName = "DocumentMiddlewareFailed")]
    public static partial void MiddlewareFailed(ILogger logger, DocumentAction action, string documentId, Exception exception);

    [LoggerMessage(103, LogLevel.Debug, "Document {DocumentId}: the store refused the commit at version {Version} (another writer), retry {Retry}.", EventName = "DocumentCommitConflict")]
    public static partial void CommitConflict(ILogger logger, string documentId, long version, int retry);

    [LoggerMessage(104, LogLevel.Error, "Document {DocumentId}: the request (a:{Action}) failed unexpectedly; refused with code 1000.", EventName = "DocumentRequestFailed")]
    public static partial void RequestFailed(ILogger logger, string documentId, int action, Exception exception);

    [LoggerMessage(105, LogLevel.Warning, "Document {DocumentId}: the stored type {Type} is not registered (DocumentOptions.AddType); its requests are refused with code 2.", EventName = "DocumentTypeUnknown")]
    public static partial void StoredTypeUnknown(ILogger logger, string documentId, string type);

    [LoggerMessage(106, LogLevel.Debug, "Document {DocumentId}: history trimmed (DocumentOptions.Retention); it now starts at version {Version}.", EventName = "DocumentHistoryTrimmed")]
    public static partial void HistoryTrimmed(ILogger logger, string documentId, long version);

    [LoggerMessage(107, LogLevel.Warning, "Document {DocumentId}: trimming its history (DocumentOptions.Retention) failed; it is kept until the next milestone.", EventName = "DocumentTrimFailed")]
    public static partial void TrimFailed(ILogger logger, string documentId, Exception exception);
}
