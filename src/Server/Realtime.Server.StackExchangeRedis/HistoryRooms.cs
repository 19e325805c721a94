using System.Text;

namespace Realtime.Server.StackExchangeRedis;

/// <summary>
/// Which rooms keep a history for recovery (<see cref="RealtimeOptions.Recovery"/>), as the backplane needs to know it: their log holds
/// <see cref="RecoveryOptions.MaxMessages"/> broadcasts at least, their delivered broadcasts carry positions, and their sequence and log
/// outlive the room's last member by <see cref="RecoveryOptions.MaxAge"/> (so a client that was its last member can come back). A copy
/// of the options taken when the backplane is made. Rooms without history cost what they cost before: no command more.
/// </summary>
internal sealed class HistoryRooms
{
    private readonly RecoveryOptions? _options;

    /// <param name="options">The server's recovery options; <see langword="null"/> for none (recovery off).</param>
    public HistoryRooms(RecoveryOptions? options)
    {
        Enabled = options?.Enabled ?? false;
        MaxMessages = Math.Max(options?.MaxMessages ?? 0, 1);
        MaxAge = options?.MaxAge ?? TimeSpan.Zero;
        MaxAgeMs = Math.Max((long)Math.Ceiling(MaxAge.TotalMilliseconds), 1);
        _options = Enabled ? options : null;
        LuaPatterns = Enabled ? [.. options!.Rooms.Where(p => p is not null).Select(ToLuaPattern)] : [];
    }

    /// <summary>Recovery is off: no room keeps a history.</summary>
    public static HistoryRooms None { get; } = new(null);

    /// <summary>Whether any room keeps a history.</summary>
    public bool Enabled { get; }

    /// <summary>The most broadcasts a client may recover (<see cref="RecoveryOptions.MaxMessages"/>, at least 1).</summary>
    public int MaxMessages { get; }

    /// <summary>How long a broadcast stays recoverable, and an empty room's sequence and log are kept (<see cref="RecoveryOptions.MaxAge"/>).</summary>
    public TimeSpan MaxAge { get; }

    /// <summary><see cref="MaxAge"/> in whole milliseconds (at least 1), for Redis.</summary>
    public long MaxAgeMs { get; }

    /// <summary>The room patterns as anchored Lua patterns, for scripts that decide per room themselves; empty when every room keeps one.</summary>
    public IReadOnlyList<string> LuaPatterns { get; }

    /// <summary>Whether a room keeps a history (<see cref="RecoveryOptions.KeepsHistory"/>).</summary>
    public bool Keeps(string roomId) => _options?.KeepsHistory(roomId) ?? false;

    /// <summary>How many of the room's last broadcasts its log keeps: <paramref name="historySize"/>, and <see cref="MaxMessages"/> in a room with history.</summary>
    public int LogLength(string roomId, int historySize) => Keeps(roomId) ? Math.Max(historySize, MaxMessages) : historySize;

    /// <summary>How long, in milliseconds, a room's sequence and log outlive its last member: 0 (they are deleted) in a room without history.</summary>
    public long KeepAfterLastLeaveMs(string roomId) => Keeps(roomId) ? MaxAgeMs : 0;

    /// <summary>A room pattern as an anchored Lua pattern: every character literal (magic ones escaped), <c>*</c> as <c>.*</c>.</summary>
    internal static string ToLuaPattern(string pattern)
    {
        var lua = new StringBuilder(pattern.Length + 8).Append('^');
        foreach (char c in pattern)
        {
            switch (c)
            {
                case '*':
                    lua.Append(".*");
                    break;
                case '\0':
                    lua.Append("%z");
                    break;
                case '^' or '$' or '(' or ')' or '%' or '.' or '[' or ']' or '+' or '-' or '?':
                    lua.Append('%').Append(c);
                    break;
                default:
                    lua.Append(c);
                    break;
            }
        }

        return lua.Append('$').ToString();
    }
}
