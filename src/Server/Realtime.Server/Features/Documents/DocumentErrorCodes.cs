namespace Realtime.Server;

/// <summary>
/// The error codes of the <c>ot-doc</c> protocol (the original client's <c>ERROR_CODES</c>), as the server sends them in
/// <c>error: {code, message}</c> (docs/documents.md, "Errors").
/// </summary>
public static class DocumentErrorCodes
{
    /// <summary>0: the document exists already (a create), or was created remotely.</summary>
    public const int AlreadyCreated = 0;

    /// <summary>1: the document does not exist.</summary>
    public const int DoesNotExist = 1;

    /// <summary>2: a create names a type the server does not know.</summary>
    public const int UnknownType = 2;

    /// <summary>3: the document was deleted meanwhile.</summary>
    public const int WasDeleted = 3;

    /// <summary>4: the store refused the commit more often than <see cref="DocumentOptions.MaxSubmitRetries"/>.</summary>
    public const int MaxRetriesExceeded = 4;

    /// <summary>6: a badly formed or unknown message.</summary>
    public const int InvalidMessage = 6;

    /// <summary>9: the type could not apply the operation.</summary>
    public const int ApplyFailed = 9;

    /// <summary>10: the type could not transform the operation.</summary>
    public const int TransformFailed = 10;

    /// <summary>11: a snapshot read refused by <see cref="DocumentAction.ReadSnapshots"/> middleware.</summary>
    public const int SnapshotReadRefused = 11;

    /// <summary>13: committed operations needed for the transform are missing from the log.</summary>
    public const int MissingOps = 13;

    /// <summary>14: the client's <c>seq</c> reached 2^53−1.</summary>
    public const int SeqOverflow = 14;

    /// <summary>15: a badly formed operation.</summary>
    public const int InvalidOp = 15;

    /// <summary>17: a version newer than the document's.</summary>
    public const int VersionTooNew = 17;

    /// <summary>19: the submit was rejected; the original client rolls its operation back silently (no error event).</summary>
    public const int SubmitRejected = 19;

    /// <summary>24: a committed operation's version does not follow during the transform.</summary>
    public const int TransformVersionMismatch = 24;

    /// <summary>29: a restore's target version is invalid.</summary>
    public const int InvalidRestoreVersion = 29;

    /// <summary>30: a restore without data.</summary>
    public const int MissingRestoreData = 30;

    /// <summary>32: the document was restored meanwhile; the client should fetch it again.</summary>
    public const int WasRestored = 32;

    /// <summary>1000: anything else, among them middleware refusals and the limits of <see cref="DocumentOptions"/>.</summary>
    public const int Unknown = 1000;
}
