using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Realtime.Server.Internal.Protocols;

/// <summary>Reads an upgrade request's query (ASP.NET Core has percent-decoded it) the way every protocol exposes it.</summary>
internal static class UpgradeQuery
{
    /// <summary>Every key with its first value (an empty string for a key without one).</summary>
    public static IReadOnlyDictionary<string, string> FirstValues(IQueryCollection query)
    {
        var values = new Dictionary<string, string>(query.Count, StringComparer.Ordinal);
        foreach (KeyValuePair<string, StringValues> pair in query)
        {
            values[pair.Key] = pair.Value.Count > 0 ? pair.Value[0] ?? string.Empty : string.Empty;
        }

        return values;
    }

    /// <summary>The value of a key that appears exactly once; an empty string when it is absent or repeated.</summary>
    public static bool TryGetSingle(IQueryCollection query, string key, out string value)
    {
        StringValues values = query[key];
        value = values.Count == 1 ? values[0] ?? string.Empty : string.Empty;
        return values.Count == 1;
    }
}
