namespace Realtime.Server.Sqlite;

/// <summary>The store's statements: constant text, every value a bound parameter (<c>$name</c>).</summary>
internal static class SqliteStatements
{
    public const string Record = "SELECT version, type, incarnation FROM documents WHERE id = $id";

    /// <summary>The latest snapshot, one row per fragment (one row with a null name when it has none), read in one statement.</summary>
    public const string Snapshot = """
        SELECT d.snapshot_version, d.snapshot_type, f.name, f.data
        FROM documents d LEFT JOIN snapshot_fragments f ON f.doc = d.doc
        WHERE d.id = $id AND d.snapshot_version IS NOT NULL
        """;

    public const string Operations = """
        SELECT o.version, o.source, o.sequence, o.kind, o.payload
        FROM documents d JOIN operations o ON o.doc = d.doc
        WHERE d.id = $id AND o.version >= $from AND o.version < $to
        ORDER BY o.version
        """;

    /// <summary>
    /// By the index on (doc, source, sequence), named: left to itself, the planner may prefer the key (doc, version) for the
    /// ORDER BY and walk a document's whole log.
    /// </summary>
    public const string FindOperation = """
        SELECT o.version, o.source, o.sequence, o.kind, o.payload
        FROM documents d JOIN operations o INDEXED BY operations_by_source ON o.doc = d.doc
        WHERE d.id = $id AND o.source = $source AND o.sequence = $sequence
        ORDER BY o.version DESC LIMIT 1
        """;

    /// <summary>The newest milestone at or below $version, one row per fragment, with its time.</summary>
    public const string Milestone = """
        SELECT m.version, m.type, f.name, f.data, m.time
        FROM documents d
        JOIN milestones m ON m.doc = d.doc
            AND m.version = (SELECT max(version) FROM milestones WHERE doc = d.doc AND version <= $version)
        LEFT JOIN milestone_fragments f ON f.doc = m.doc AND f.version = m.version
        WHERE d.id = $id
        """;

    // Writes, in a BEGIN IMMEDIATE transaction.
    public const string Lock = "SELECT doc, version, incarnation FROM documents WHERE id = $id";

    /// <summary>The create's row: the only write of its incarnation, which an update leaves as it is until the row is deleted.</summary>
    public const string InsertDocument = """
        INSERT INTO documents (id, version, type, incarnation) VALUES ($id, $version, $type, $incarnation) RETURNING doc
        """;

    public const string UpdateDocument = "UPDATE documents SET version = $version, type = $type WHERE doc = $doc";

    public const string InsertOperation = """
        INSERT INTO operations (doc, version, source, sequence, kind, payload)
        VALUES ($doc, $version, $source, $sequence, $kind, $payload)
        """;

    public const string SetSnapshot = "UPDATE documents SET snapshot_version = $version, snapshot_type = $type WHERE doc = $doc";

    public const string DeleteSnapshotFragments = "DELETE FROM snapshot_fragments WHERE doc = $doc";

    public const string InsertSnapshotFragment = "INSERT INTO snapshot_fragments (doc, name, data) VALUES ($doc, $name, $data)";

    /// <summary>A new milestone replaces those at or above its version (as after a restore to an older one).</summary>
    public const string DeleteMilestonesFrom = "DELETE FROM milestones WHERE doc = $doc AND version >= $version";

    public const string DeleteMilestoneFragmentsFrom = "DELETE FROM milestone_fragments WHERE doc = $doc AND version >= $version";

    public const string InsertMilestone = "INSERT INTO milestones (doc, version, type, time) VALUES ($doc, $version, $type, $time)";

    public const string InsertMilestoneFragment = "INSERT INTO milestone_fragments (doc, version, name, data) VALUES ($doc, $version, $name, $data)";

    // Trimming a document's history (retention).

    /// <summary>
    /// The version of the newest milestone committed at or before $before (null when none), by the index on (doc, time, version),
    /// named: it reads only the index entries of the document's milestones old enough (after earlier trims, the one kept and those that aged since), where the key
    /// (doc, version) would walk every newer one first. A null time is never old enough.
    /// </summary>
    public const string TrimStart = "SELECT max(version) FROM milestones INDEXED BY milestones_by_time WHERE doc = $doc AND time <= $before";

    public const string DeleteOperationsBelow = "DELETE FROM operations WHERE doc = $doc AND version < $version";

    public const string DeleteMilestonesBelow = "DELETE FROM milestones WHERE doc = $doc AND version < $version";

    public const string DeleteMilestoneFragmentsBelow = "DELETE FROM milestone_fragments WHERE doc = $doc AND version < $version";

    // Erasing a document.
    public const string DeleteOperations = "DELETE FROM operations WHERE doc = $doc";

    public const string DeleteMilestones = "DELETE FROM milestones WHERE doc = $doc";

    public const string DeleteMilestoneFragments = "DELETE FROM milestone_fragments WHERE doc = $doc";

    public const string DeleteDocument = "DELETE FROM documents WHERE doc = $doc";
}
