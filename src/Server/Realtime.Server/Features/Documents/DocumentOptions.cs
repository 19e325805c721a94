namespace Realtime.Server;

/// <summary>
/// The document service's types, middleware, store and limits (<see cref="DocumentServerExtensions.UseDocuments"/>). Set them at start-up;
/// they are read for each request.
/// </summary>
public sealed class DocumentOptions
{
    /// <summary>The default of <see cref="MaxOpBytes"/>: 256 KiB.</summary>
    public const int DefaultMaxOpBytes = 256 * 1024;

    /// <summary>The default of <see cref="MaxOpsPerSecond"/>: 100.</summary>
    public const int DefaultMaxOpsPerSecond = 100;

    /// <summary>The default of <see cref="MaxSnapshotBytes"/>: 1 MiB, what a default <see cref="RealtimeOptions.MaxMessageSize"/> carries.</summary>
    public const int DefaultMaxSnapshotBytes = 1024 * 1024;

    /// <summary>The default of <see cref="MaxSubmitRetries"/>: 100. One node never loses a race to itself (its submits to a document take
    /// turns); a retry means another node committed to the same document meanwhile. A node that lost one re-reads the document, which
    /// takes longer than the winner's next commit, so it can lose many in a row to a node committing back to back: with two editors per
    /// node each awaiting 500 ops, up to 84 in a row were seen, and in 2 runs of 12 more than 100 (refused). The bound stops a submit that
    /// could wait without end, and code 4 tells its client.</summary>
    public const int DefaultMaxSubmitRetries = 100;

    /// <summary>The default of <see cref="MilestoneInterval"/>: 1000.</summary>
    public const int DefaultMilestoneInterval = 1000;

    private readonly object _gate = new();
    private readonly DocumentMiddleware[][] _middleware = [.. Enum.GetValues<DocumentAction>().Select(_ => Array.Empty<DocumentMiddleware>())];
    private Dictionary<string, IOtType> _types = new(StringComparer.Ordinal);

    /// <summary>Creates options with json0 (<see cref="OtTypes.Json0"/>) registered and the default store.</summary>
    public DocumentOptions() => AddType(OtTypes.Json0);

    /// <summary>Where documents live. Default (<see langword="null"/>): the <see cref="DocumentStore"/> registered in the application's
    /// services (<c>AddSqliteDocumentStore</c>, <c>AddPostgresDocumentStore</c>), else an <see cref="InMemoryDocumentStore"/> of this
    /// server's own.</summary>
    public DocumentStore? Store { get; set; }

    /// <summary>How often one submit may find the store changed by another node and start again (from reading the record) before it is
    /// refused with code 4. Default <see cref="DefaultMaxSubmitRetries"/>; <see langword="null"/>: unlimited (the original's default).</summary>
    public int? MaxSubmitRetries { get; set; } = DefaultMaxSubmitRetries;

    /// <summary>The largest operation, in bytes of its JSON (the <c>op</c> value as sent); a larger one is refused with code 1000 and nothing
    /// is committed. A create's or a restore's data is a whole snapshot and has <see cref="MaxSnapshotBytes"/> instead. Default
    /// <see cref="DefaultMaxOpBytes"/>.</summary>
    public int MaxOpBytes { get; set; } = DefaultMaxOpBytes;

    /// <summary>The most operations one connection may submit per second (a bucket of this many, refilled continuously); one beyond it is
    /// refused with code 1000 and nothing is committed. 0 turns the limit off. Default <see cref="DefaultMaxOpsPerSecond"/>: far above what
    /// a person makes (the clients compose what they type while an operation is in flight).</summary>
    public int MaxOpsPerSecond { get; set; } = DefaultMaxOpsPerSecond;

    /// <summary>The largest snapshot, in bytes of its JSON; an operation (or create, or restore) that would make the document larger is
    /// refused with code 1000 and nothing is committed; a create's or a restore's data (as sent) is held to it too. At most
    /// <see cref="RealtimeOptions.MaxMessageSize"/>, checked by <see cref="DocumentServerExtensions.UseDocuments"/>. Default
    /// <see cref="DefaultMaxSnapshotBytes"/>.</summary>
    public int MaxSnapshotBytes { get; set; } = DefaultMaxSnapshotBytes;

    /// <summary>Every this many versions a milestone snapshot is kept, from which history snapshots are rebuilt (fewer operations to
    /// apply); 0 keeps none. Default <see cref="DefaultMilestoneInterval"/>.</summary>
    public int MilestoneInterval { get; set; } = DefaultMilestoneInterval;

    /// <summary>How long the op log is kept in full: when a milestone is written, the store trims each document's history below the newest
    /// milestone at least this old (<see cref="DocumentStore.TrimAsync"/>), so history and ops older than that can no longer be read (a
    /// client asking gets code 13, "Missing operations"). <see langword="null"/> (the default): the whole log is kept. Needs
    /// <see cref="MilestoneInterval"/> above 0.</summary>
    public TimeSpan? Retention { get; set; }

    /// <summary>The registered types by name and by URI.</summary>
    internal IReadOnlyDictionary<string, IOtType> Types => Volatile.Read(ref _types);

    /// <summary>
    /// Registers an OT type, found by its <see cref="IOtType.Name"/> or its <see cref="IOtType.Uri"/> in a create. A type whose URI is
    /// registered already replaces it. json0 is registered by default.
    /// </summary>
    /// <param name="type">The type.</param>
    /// <returns>These options.</returns>
    /// <example><code>server.UseDocuments(o => o.AddType(OtTypes.TextUnicode));</code></example>
    public DocumentOptions AddType(IOtType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentException.ThrowIfNullOrEmpty(type.Name, "type.Name");
        ArgumentException.ThrowIfNullOrEmpty(type.Uri, "type.Uri");
        lock (_gate)
        {
            var types = new Dictionary<string, IOtType>(StringComparer.Ordinal);
            foreach (IOtType known in _types.Values.Distinct())
            {
                if (known.Uri != type.Uri)
                {
                    types[known.Name] = known;
                    types[known.Uri] = known;
                }
            }

            types[type.Name] = type;
            types[type.Uri] = type;
            Volatile.Write(ref _types, types);
        }

        return this;
    }

    /// <summary>Adds middleware for one action; several for one action run in registration order.</summary>
    /// <param name="action">When it runs.</param>
    /// <param name="middleware">The middleware.</param>
    /// <returns>These options.</returns>
    /// <example><code>
    /// server.UseDocuments(o => o.Use(DocumentAction.Submit, (ctx, next) =>
    ///     ctx.Connection?.User.Identity?.IsAuthenticated == true ? next() : Refuse(ctx)));
    /// static ValueTask Refuse(DocumentContext ctx) { ctx.Reject(DocumentErrorCodes.SubmitRejected, "Read-only"); return default; }
    /// </code></example>
    public DocumentOptions Use(DocumentAction action, DocumentMiddleware middleware)
    {
        ArgumentNullException.ThrowIfNull(middleware);
        if (!Enum.IsDefined(action))
        {
            throw new ArgumentOutOfRangeException(nameof(action), action, "Not a document action.");
        }

        lock (_gate)
        {
            Volatile.Write(ref _middleware[(int)action], [.. _middleware[(int)action], middleware]); // copy-on-write: requests read without a lock
        }

        return this;
    }

    /// <summary>The middleware of one action (empty when none).</summary>
    internal DocumentMiddleware[] MiddlewareOf(DocumentAction action) => Volatile.Read(ref _middleware[(int)action]);

    internal void Validate(int maxMessageSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxOpBytes, "DocumentOptions.MaxOpBytes");
        ArgumentOutOfRangeException.ThrowIfNegative(MaxOpsPerSecond, "DocumentOptions.MaxOpsPerSecond");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxSnapshotBytes, "DocumentOptions.MaxSnapshotBytes");
        ArgumentOutOfRangeException.ThrowIfNegative(MilestoneInterval, "DocumentOptions.MilestoneInterval");
        ArgumentOutOfRangeException.ThrowIfNegative(MaxSubmitRetries ?? 0, "DocumentOptions.MaxSubmitRetries");
        if (Retention is { } retention && (retention < TimeSpan.Zero || MilestoneInterval == 0))
        {
            throw new ArgumentOutOfRangeException("DocumentOptions.Retention", retention,
                "Retention must not be negative, and needs milestones (DocumentOptions.MilestoneInterval above 0) to keep history from.");
        }
        if (MaxSnapshotBytes > maxMessageSize)
        {
            throw new ArgumentOutOfRangeException("DocumentOptions.MaxSnapshotBytes", MaxSnapshotBytes,
                $"At most RealtimeOptions.MaxMessageSize ({maxMessageSize}): a create or a restore carries a whole snapshot in one message.");
        }

        if (MaxSubmitRetries is < 0)
        {
            throw new ArgumentOutOfRangeException("DocumentOptions.MaxSubmitRetries", MaxSubmitRetries, "Not negative.");
        }
    }
}
