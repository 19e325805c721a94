namespace Realtime.TestSupport;

/// <summary>Files of the repository that tests read (the browser client's sources, for one).</summary>
public static class RepositoryPaths
{
    /// <summary>The folder holding <c>Realtime.sln</c>, found above the test's output folder.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The browser client's package folder, <c>src/Client/realtime-client-js</c>.</summary>
    public static string BrowserClient => Path.Combine(Root, "src", "Client", "realtime-client-js");

    /// <summary>The end-to-end tests of the compatibility endpoint with socket.io-client (tests/js-collaboration).</summary>
    public static string JsCollaborationTests => Path.Combine(Root, "tests", "js-collaboration");

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
