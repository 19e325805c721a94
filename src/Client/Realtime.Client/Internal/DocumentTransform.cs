using System.Text.Json.Nodes;

namespace Realtime.Client.Internal;

/// <summary>How a local op and a remote op written against the same version are transformed against each other (the client's side of §3.6).</summary>
internal static class DocumentTransform
{
    /// <summary>
    /// Transforms a local op and a remote one written against the same version against each other: <paramref name="local"/> becomes
    /// the local op after the remote one, <paramref name="remote"/> the remote op after the local one. The local op takes the left side,
    /// as the server does with the op that reaches it later.
    /// </summary>
    /// <returns>Why they cannot be transformed; <see langword="null"/> when done.</returns>
    public static SharedDocumentException? Against(IOtType? type, PendingOp local, PendingOp remote)
    {
        if (remote.Kind == DocumentOpKind.None)
        {
            return null;
        }

        if (local.Kind is DocumentOpKind.Delete or DocumentOpKind.Restore)
        {
            // The local delete or restore replaces whatever the remote op did: for this client the remote op is a no-op.
            remote.Cancel();
            return null;
        }

        return remote.Kind switch
        {
            DocumentOpKind.Delete => new SharedDocumentException(3, "Document was deleted"),
            DocumentOpKind.Create => new SharedDocumentException(0, "Document was created remotely"),
            DocumentOpKind.Restore => new SharedDocumentException(32, "Document was restored, please refetch"),
            _ when local.Kind == DocumentOpKind.Create => new SharedDocumentException(0, "Document was created remotely"),
            _ => Ops(type, local, remote),
        };
    }

    private static SharedDocumentException? Ops(IOtType? documentType, PendingOp local, PendingOp remote)
    {
        if (documentType is not { } type)
        {
            return new SharedDocumentException(10, "Op transform failed: the document has no type");
        }

        try
        {
            (JsonNode left, JsonNode right) = type.TransformX(local.Op!, remote.Op!);
            local.Op = left;
            remote.Op = right;
            return null;
        }
        catch (Exception ex) when (ex is OtException or NotSupportedException or InvalidOperationException)
        {
            return new SharedDocumentException(10, "Op transform failed: " + ex.Message);
        }
    }
}
