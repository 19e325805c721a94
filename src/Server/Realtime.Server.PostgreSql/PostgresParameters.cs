using Npgsql;
using NpgsqlTypes;

namespace Realtime.Server.PostgreSql;

/// <summary>The typed parameters of the store's statements: values as Npgsql binds them, nulls with their types, snapshots as fragment arrays.</summary>
internal static class PostgresParameters
{
    public static (NpgsqlParameter Names, NpgsqlParameter Data) Fragments(StoredSnapshot? snapshot)
    {
        if (snapshot is null)
        {
            return (new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                    new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
        }

        string[] names = new string[snapshot.Fragments.Count];
        byte[][] data = new byte[names.Length][];
        int i = 0;
        foreach (KeyValuePair<string, ReadOnlyMemory<byte>> fragment in snapshot.Fragments)
        {
            names[i] = fragment.Key;
            data[i++] = fragment.Value.ToArray();
        }

        return (new NpgsqlParameter<string[]> { TypedValue = names }, new NpgsqlParameter<byte[][]> { TypedValue = data, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
    }

    public static NpgsqlParameter<string> Text(string value) => new() { TypedValue = value };

    public static NpgsqlParameter<long> Bigint(long value) => new() { TypedValue = value };

    public static NpgsqlParameter NullableText(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    public static NpgsqlParameter NullableBigint(long? value) => new() { Value = value is { } v ? v : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint };

    /// <summary>A <c>timestamptz</c>: Npgsql writes only times at offset zero, so the time is converted (the same instant).</summary>
    public static NpgsqlParameter NullableTime(DateTimeOffset? value)
        => new() { Value = value is { } v ? v.ToUniversalTime() : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz };

    public static NpgsqlParameter Bytes(ReadOnlyMemory<byte> value)
        => new NpgsqlParameter<ReadOnlyMemory<byte>> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Bytea };
}
