namespace Realtime.Server.Sqlite;

/// <summary>
/// How hard SQLite pushes each commit to the disk (its <c>PRAGMA synchronous</c>, in WAL mode): what a commit, and so an
/// acknowledged op, survives. See docs/stores.md.
/// </summary>
public enum SqliteSynchronous
{
    /// <summary>
    /// <c>NORMAL</c>: a commit is written to the write-ahead log (the operating system holds it) but not flushed to the disk; the log
    /// is flushed at each checkpoint. An acknowledged op survives the process crashing or being killed, not a power loss or an
    /// operating system crash, which can lose the latest commits (never corrupts the file). Faster: no flush per commit.
    /// </summary>
    Normal = 1,

    /// <summary>
    /// <c>FULL</c> (the default): the write-ahead log is flushed to the disk (fsync) before a commit returns. An acknowledged op
    /// survives the process crashing and a power loss or operating system crash (as far as the disk honours the flush).
    /// </summary>
    Full = 2,
}
