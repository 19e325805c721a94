namespace Realtime.Server.PostgreSql;

/// <summary>Where a <see cref="PostgresDocumentStore"/> keeps its tables, and whether it creates them.</summary>
public sealed class PostgresDocumentStoreOptions
{
    /// <summary>The default <see cref="Schema"/>: <c>public</c>.</summary>
    public const string DefaultSchema = "public";

    /// <summary>The default <see cref="TablePrefix"/>: <c>realtime_</c>.</summary>
    public const string DefaultTablePrefix = "realtime_";

    /// <summary>The PostgreSQL schema of the tables (default <c>public</c>): a lowercase identifier (letters, digits, <c>_</c>).</summary>
    /// <remarks>Several applications, or several environments, can share one database with a schema each.</remarks>
    public string Schema { get; set; } = DefaultSchema;

    /// <summary>What the tables' names start with (default <c>realtime_</c>: <c>realtime_documents</c>, <c>realtime_operations</c>, …): a
    /// lowercase identifier, possibly empty.</summary>
    public string TablePrefix { get; set; } = DefaultTablePrefix;

    /// <summary>
    /// Whether the store creates its tables (and <see cref="Schema"/>, when it does not exist) on first use: <see langword="true"/> by
    /// default. Creation is idempotent (<c>CREATE TABLE IF NOT EXISTS</c>), upgrades tables of an earlier schema version in place, and is
    /// serialized between nodes by an advisory lock.
    /// </summary>
    /// <remarks>Teams that migrate their database themselves set this to <see langword="false"/> and run
    /// <see cref="PostgresDocumentStore.GetSchemaScript"/> (or the package's <c>content/Schema.sql</c>, written for the default names) in
    /// their migrations (running it again is also the upgrade to a new schema version); the store then only checks the schema's version,
    /// and fails with an <see cref="InvalidOperationException"/> naming the missing tables, or saying the script is to be run again.</remarks>
    public bool CreateSchema { get; set; } = true;

    /// <summary>Throws when a name cannot be used.</summary>
    internal void Validate()
    {
        if (!IsIdentifier(Schema, allowEmpty: false))
        {
            throw new ArgumentException($"Schema \"{Schema}\" is not a lowercase identifier (a-z, 0-9, _, not starting with a digit, at most 63 characters).", nameof(Schema));
        }

        // The longest name made from the prefix: the primary key of the milestone fragments (PostgreSQL names it table + "_pkey").
        if (!IsIdentifier(TablePrefix, allowEmpty: true) || TablePrefix.Length + "milestone_fragments_pkey".Length > 63)
        {
            throw new ArgumentException($"TablePrefix \"{TablePrefix}\" is not a lowercase identifier of at most 39 characters (a-z, 0-9, _, not starting with a digit).", nameof(TablePrefix));
        }
    }

    private static bool IsIdentifier(string? name, bool allowEmpty)
    {
        if (name is null || name.Length > 63 || (name.Length == 0 && !allowEmpty))
        {
            return false;
        }

        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            bool letter = c is (>= 'a' and <= 'z') or '_';
            if (!letter && !(i > 0 && char.IsAsciiDigit(c)))
            {
                return false;
            }
        }

        return true;
    }
}
