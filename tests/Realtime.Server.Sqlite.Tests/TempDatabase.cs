namespace Realtime.Server.Sqlite.Tests;

/// <summary>A folder of its own under the system's temporary folder, for one test's database file; deleted with everything in it.</summary>
internal sealed class TempDatabase : IDisposable
{
    public TempDatabase()
    {
        Folder = Path.Combine(Path.GetTempPath(), "realtime-sqlite-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
    }

    public string Folder { get; }

    /// <summary>The database file (not created: the store does that).</summary>
    public string File => Path.Combine(Folder, "documents.db");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Still open by a process that is being killed; the temporary folder is the system's to clean.
        }
    }
}
