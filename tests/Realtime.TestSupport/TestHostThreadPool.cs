namespace Realtime.TestSupport;

/// <summary>
/// The test host itself parks two thread-pool threads for its whole run (the test platform's message loop polls a
/// socket, and the xunit runner waits on a handle). On a 2-core machine, where the pool starts with two threads, that
/// leaves the servers, clients and timers under test starved during warm-up: a timer callback can wait a second for a
/// thread, and a 500 ms heartbeat then misses its deadline. A production server has no such tenants; the test
/// assemblies call <see cref="Reserve"/> once so that the pool starts with enough threads.
/// </summary>
public static class TestHostThreadPool
{
    public static void Reserve()
    {
        ThreadPool.GetMinThreads(out int workers, out int io);
        int wanted = Math.Max(8, Environment.ProcessorCount * 4);
        ThreadPool.SetMinThreads(Math.Max(workers, wanted), Math.Max(io, wanted));
    }
}
