using Realtime.TestSupport;

namespace Realtime.Server.Sqlite.Tests;

/// <summary>Runs once when the test assembly loads.</summary>
internal static class ModuleSetup
{
    [System.Runtime.CompilerServices.ModuleInitializer]
    internal static void Initialize() => TestHostThreadPool.Reserve();
}
