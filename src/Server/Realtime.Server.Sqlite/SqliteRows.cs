using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace Realtime.Server.Sqlite;

/// <summary>Values to parameters and rows to records.</summary>
internal static class SqliteRows
{
    public static void Bind(SqliteCommand command, string name, object? value) => command.Parameters.AddWithValue(name, value ?? DBNull.Value);

    /// <summary>Binds bytes as a BLOB, without a copy when they are a whole array.</summary>
    public static void BindBlob(SqliteCommand command, string name, ReadOnlyMemory<byte> bytes)
    {
        byte[] array = MemoryMarshal.TryGetArray(bytes, out ArraySegment<byte> segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : bytes.ToArray();
        command.Parameters.Add(name, SqliteType.Blob).Value = array;
    }

    public static ReadOnlyMemory<byte> Blob(SqliteDataReader reader, int ordinal)
        => reader.IsDBNull(ordinal) ? ReadOnlyMemory<byte>.Empty : reader.GetFieldValue<byte[]>(ordinal);

    /// <summary>An operation from (version, source, sequence, kind, payload).</summary>
    public static DocumentOperation Operation(SqliteDataReader reader)
        => new(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetInt64(2), Kind(reader.GetString(3)), Blob(reader, 4));

    /// <summary>Binds a time as Unix milliseconds UTC (a sortable integer; below a millisecond is dropped), or null.</summary>
    public static void BindTime(SqliteCommand command, string name, DateTimeOffset? time) => Bind(command, name, time?.ToUnixTimeMilliseconds());

    /// <summary>
    /// A snapshot from rows of (version, type, fragment name, fragment data), and with <paramref name="withTime"/> its time (Unix
    /// milliseconds, read back in UTC) in a fifth column; or <see langword="null"/> when there is no row.
    /// </summary>
    public static StoredSnapshot? Snapshot(SqliteDataReader reader, bool withTime = false)
    {
        if (!reader.Read())
        {
            return null;
        }

        long version = reader.GetInt64(0);
        string type = reader.GetString(1);
        DateTimeOffset? time = withTime && !reader.IsDBNull(4) ? DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)) : null;
        var fragments = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
        do
        {
            if (!reader.IsDBNull(2))
            {
                fragments[reader.GetString(2)] = Blob(reader, 3);
            }
        }
        while (reader.Read());

        return new StoredSnapshot(version, type, fragments) { Time = time };
    }

    public static string Kind(DocumentOperationKind kind) => kind switch
    {
        DocumentOperationKind.Op => "op",
        DocumentOperationKind.Create => "create",
        DocumentOperationKind.Delete => "delete",
        DocumentOperationKind.Restore => "restore",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not an operation kind this store knows."),
    };

    public static DocumentOperationKind Kind(string kind) => kind switch
    {
        "op" => DocumentOperationKind.Op,
        "create" => DocumentOperationKind.Create,
        "delete" => DocumentOperationKind.Delete,
        "restore" => DocumentOperationKind.Restore,
        _ => throw new InvalidOperationException($"The document store holds an operation of kind '{kind}', which this version does not know."),
    };
}
