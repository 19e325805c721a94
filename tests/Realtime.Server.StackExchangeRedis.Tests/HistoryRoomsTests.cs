namespace Realtime.Server.StackExchangeRedis.Tests;

/// <summary>Which rooms keep a history for recovery, as the Redis backplane decides it (in C#, and in its scripts as Lua patterns).</summary>
public sealed class HistoryRoomsTests
{
    [Theory]
    [InlineData("doc-*", "doc-1", true)]
    [InlineData("doc-*", "doc-", true)]
    [InlineData("doc-*", "doc", false)]
    [InlineData("doc-*", "my-doc-1", false)]
    [InlineData("*-doc", "a-doc", true)]
    [InlineData("a*b*c", "axxbyyc", true)]
    [InlineData("a*b*c", "axxbyy", false)]
    [InlineData("*", "", true)]
    [InlineData("room", "room", true)]
    [InlineData("room", "Room", false)]
    [InlineData("a.b(*", "a.b(c)", true)]
    [InlineData("a.b(*", "axb(c)", false)]
    public void A_star_matches_any_run_of_characters_and_everything_else_is_literal(string pattern, string roomId, bool matches)
    {
        Assert.Equal(matches, new HistoryRooms(new RecoveryOptions { Enabled = true, Rooms = { pattern } }).Keeps(roomId));
        Assert.Equal(matches, System.Text.RegularExpressions.Regex.IsMatch(roomId, LuaToRegex(HistoryRooms.ToLuaPattern(pattern)))); // the scripts' pattern agrees
    }

    [Fact]
    public void Off_keeps_no_history_and_the_log_length_is_the_backplane_s_own()
    {
        HistoryRooms off = HistoryRooms.None;
        Assert.False(off.Keeps("room1"));
        Assert.Equal(100, off.LogLength("room1", 100));
        Assert.Equal(0, off.KeepAfterLastLeaveMs("room1"));
        Assert.False(new HistoryRooms(new RecoveryOptions { Rooms = { "doc-*" } }).Keeps("doc-1")); // patterns without Enabled
    }

    [Fact]
    public void On_a_room_with_history_keeps_the_larger_log_and_its_state_for_the_max_age()
    {
        var options = new RecoveryOptions { Enabled = true, MaxMessages = 500, MaxAge = TimeSpan.FromSeconds(30), Rooms = { "doc-*" } };
        var history = new HistoryRooms(options);
        Assert.True(history.Keeps("doc-1"));
        Assert.False(history.Keeps("chat"));
        Assert.Equal(500, history.LogLength("doc-1", 100));
        Assert.Equal(2000, history.LogLength("doc-1", 2000));
        Assert.Equal(100, history.LogLength("chat", 100));
        Assert.Equal(30_000, history.KeepAfterLastLeaveMs("doc-1"));
        Assert.Equal(0, history.KeepAfterLastLeaveMs("chat"));
        Assert.Equal(["^doc%-.*$"], history.LuaPatterns);
        Assert.Empty(new HistoryRooms(new RecoveryOptions { Enabled = true }).LuaPatterns); // every room
        Assert.True(new HistoryRooms(new RecoveryOptions { Enabled = true }).Keeps("anything"));
    }

    /// <summary>The anchored Lua patterns <see cref="HistoryRooms.ToLuaPattern"/> makes (<c>%x</c> escapes, <c>.*</c>) as a regular expression.</summary>
    private static string LuaToRegex(string lua)
    {
        var regex = new System.Text.StringBuilder();
        for (int i = 0; i < lua.Length; i++)
        {
            char c = lua[i];
            if (c == '%')
            {
                regex.Append(System.Text.RegularExpressions.Regex.Escape(lua[++i].ToString()));
            }
            else if (c == '.' && i + 1 < lua.Length && lua[i + 1] == '*')
            {
                regex.Append("[\\s\\S]*");
                i++;
            }
            else
            {
                regex.Append(c is '^' or '$' ? c.ToString() : System.Text.RegularExpressions.Regex.Escape(c.ToString()));
            }
        }

        return regex.ToString();
    }
}
