namespace Realtime.Server.PostgreSql;

/// <summary>
/// The SQL of a <see cref="PostgresDocumentStore"/>, written once for its schema and table prefix (validated identifiers, so they are
/// written unquoted; every value is a bound parameter, <c>$1</c>, <c>$2</c>, …).
/// </summary>
internal sealed class PostgresStatements
{
    /// <summary>The schema version this store reads and writes.</summary>
    public const int SchemaVersion = 3;

    private const string ScriptResource = "Realtime.Server.PostgreSql.Schema.sql";

    public PostgresStatements(PostgresDocumentStoreOptions options)
    {
        Schema = options.Schema;
        string prefix = $"{options.Schema}.{options.TablePrefix}";
        string documents = prefix + "documents";
        string operations = prefix + "operations";
        string fragments = prefix + "snapshot_fragments";
        string milestones = prefix + "milestones";
        string milestoneFragments = prefix + "milestone_fragments";
        VersionTable = prefix + "schema";
        Script = Rename(ReadScript(), options);

        ReadVersion = $"SELECT max(version) FROM {VersionTable}";
        GetRecord = $"SELECT version, type, incarnation FROM {documents} WHERE id = $1";
        GetSnapshot = $"""
            SELECT d.snapshot_version, d.snapshot_type, f.name, f.data, NULL::timestamptz
            FROM {documents} d LEFT JOIN {fragments} f ON f.document = d.id
            WHERE d.id = $1 AND d.snapshot_version IS NOT NULL
            """;
        GetOperations = $"""
            SELECT version, source, sequence, kind, payload FROM {operations}
            WHERE document = $1 AND version >= $2 AND ($3::bigint IS NULL OR version < $3)
            ORDER BY version
            """;
        FindOperation = $"""
            SELECT version, source, sequence, kind, payload FROM {operations}
            WHERE document = $1 AND source = $2 AND sequence = $3
            ORDER BY version DESC LIMIT 1
            """;
        GetMilestone = $"""
            SELECT m.version, m.type, f.name, f.data, m.committed_at
            FROM (SELECT version, type, committed_at FROM {milestones} WHERE document = $1 AND version <= $2 ORDER BY version DESC LIMIT 1) m
            LEFT JOIN {milestoneFragments} f ON f.document = $1 AND f.version = m.version
            """;

        // A commit is one statement: the record moves only if it is at the op's version (the UPDATE re-reads a row another
        // transaction changed meanwhile, and an INSERT waits for a concurrent one with the same id), and everything else is written
        // from the moved row, so that a lost race writes nothing. $1 id, $2 version, $3 type, $4 source, $5 sequence, $6 kind,
        // $7 payload, $8/$9 snapshot version and type (null: keep the stored one), $10/$11 its fragments' names and data,
        // $12/$13 milestone version and type (null: none), $14/$15 its fragments' names and data, $16 its commit time, and $17 the
        // incarnation: at version 0 the new record's (for as long as it exists: only the insert writes it); later, the life the write
        // was prepared against (when not null, a record of another life does not move).
        string writes = $"""
            logged AS (
                INSERT INTO {operations} (document, version, source, sequence, kind, payload)
                SELECT id, $2, $4, $5, $6, $7 FROM moved),
            cleared AS (
                DELETE FROM {fragments} f USING moved
                WHERE $10::text[] IS NOT NULL AND f.document = moved.id AND f.name <> ALL($10::text[])),
            stored AS (
                INSERT INTO {fragments} (document, name, data)
                SELECT moved.id, u.name, u.data FROM moved, unnest($10::text[], $11::bytea[]) AS u(name, data)
                ON CONFLICT (document, name) DO UPDATE SET data = excluded.data),
            marked AS (
                INSERT INTO {milestones} (document, version, type, committed_at)
                SELECT moved.id, $12, $13, $16 FROM moved WHERE $12::bigint IS NOT NULL
                ON CONFLICT (document, version) DO UPDATE SET type = excluded.type, committed_at = excluded.committed_at),
            marked_fragments AS (
                INSERT INTO {milestoneFragments} (document, version, name, data)
                SELECT moved.id, $12, u.name, u.data FROM moved, unnest($14::text[], $15::bytea[]) AS u(name, data)
                ON CONFLICT (document, version, name) DO UPDATE SET data = excluded.data)
            SELECT count(*) FROM moved
            """;
        CommitFirst = $"""
            WITH moved AS (
                INSERT INTO {documents} (id, version, type, snapshot_version, snapshot_type, incarnation)
                VALUES ($1, $2 + 1, $3, $8, $9, $17)
                ON CONFLICT (id) DO NOTHING
                RETURNING id),
            {writes}
            """;
        CommitNext = $"""
            WITH moved AS (
                UPDATE {documents}
                SET version = $2 + 1, type = $3, snapshot_version = coalesce($8, snapshot_version), snapshot_type = coalesce($9, snapshot_type)
                WHERE id = $1 AND version = $2 AND ($17::text IS NULL OR incarnation IS NULL OR incarnation = $17::text)
                RETURNING id),
            {writes}
            """;

        // A delete is one statement too: everything of the document goes with its record, if the record is at the version.
        Delete = $"""
            WITH gone AS (DELETE FROM {documents} WHERE id = $1 AND version = $2 RETURNING id),
            erased_log AS (DELETE FROM {operations} o USING gone WHERE o.document = gone.id),
            erased_snapshot AS (DELETE FROM {fragments} f USING gone WHERE f.document = gone.id),
            erased_milestones AS (DELETE FROM {milestones} m USING gone WHERE m.document = gone.id),
            erased_milestone_fragments AS (DELETE FROM {milestoneFragments} m USING gone WHERE m.document = gone.id)
            SELECT count(*) FROM gone
            """;
        Absent = $"SELECT NOT EXISTS (SELECT 1 FROM {documents} WHERE id = $1)";

        // A trim is one statement, on one snapshot of the tables: the newest milestone committed at or before $2 (among this
        // document's milestones only, found by the primary key (document, version)), then, by the primary keys, the ops below
        // its version and the older milestones. It touches only rows below a milestone that was committed whole, while a commit
        // writes at and above the record's version (no milestone is above it), so the two never meet: a concurrent commit neither
        // waits for the trim nor loses anything to it.
        Trim = $"""
            WITH kept AS (
                SELECT version FROM {milestones}
                WHERE document = $1 AND committed_at <= $2
                ORDER BY version DESC LIMIT 1),
            trimmed_log AS (DELETE FROM {operations} o USING kept WHERE o.document = $1 AND o.version < kept.version),
            trimmed_milestones AS (DELETE FROM {milestones} m USING kept WHERE m.document = $1 AND m.version < kept.version),
            trimmed_milestone_fragments AS (DELETE FROM {milestoneFragments} f USING kept WHERE f.document = $1 AND f.version < kept.version)
            SELECT version FROM kept
            """;
    }

    public string Schema { get; }

    public string VersionTable { get; }

    /// <summary>The schema script (Schema.sql) for this store's names.</summary>
    public string Script { get; }

    public string ReadVersion { get; }

    public string GetRecord { get; }

    public string GetSnapshot { get; }

    public string GetOperations { get; }

    public string FindOperation { get; }

    public string GetMilestone { get; }

    /// <summary>A commit at version 0: the record is created.</summary>
    public string CommitFirst { get; }

    /// <summary>A commit at a later version: the record is moved.</summary>
    public string CommitNext { get; }

    public string Delete { get; }

    /// <summary>Whether the document has no record (a delete at version 0).</summary>
    public string Absent { get; }

    /// <summary>Removes the history below the newest milestone old enough; returns its version (no row: none is).</summary>
    public string Trim { get; }

    /// <summary>The shipped script, which names the default schema and prefix, for <paramref name="options"/>' names.</summary>
    /// <remarks>One pass over the script, so a name that contains a default one (a schema <c>realtime_app</c>) is not renamed again.</remarks>
    public static string Rename(string script, PostgresDocumentStoreOptions options)
        => System.Text.RegularExpressions.Regex.Replace(
            script,
            System.Text.RegularExpressions.Regex.Escape(PostgresDocumentStoreOptions.DefaultSchema + ".") + "|" + System.Text.RegularExpressions.Regex.Escape(PostgresDocumentStoreOptions.DefaultTablePrefix),
            match => match.Value == PostgresDocumentStoreOptions.DefaultSchema + "." ? options.Schema + "." : options.TablePrefix,
            System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    public static string ReadScript()
    {
        using Stream stream = typeof(PostgresStatements).Assembly.GetManifestResourceStream(ScriptResource)
            ?? throw new InvalidOperationException($"The resource {ScriptResource} is missing from {typeof(PostgresStatements).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
