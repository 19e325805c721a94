namespace Realtime.TestSupport;

/// <summary>Files of the repository that tests read (the browser client's sources, for one).</summary>
public static class RepositoryPaths
{
    /// <summary>The folder holding <c>Realtime.sln</c>, found above the test's output folder.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The browser client's package folder, <c>src/Client/realtime-client-js</c>.</summary>
    public static string BrowserClient => Path.Combine(Root, "src", "Client", "realtime-client-js");

    private static string FindRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Realtime.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Realtime.sln not found above " + AppContext.BaseDirectory);
    }
}
