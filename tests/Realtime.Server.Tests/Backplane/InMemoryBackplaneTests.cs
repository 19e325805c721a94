using Realtime.TestSupport;

namespace Realtime.Server.Tests.Backplane;

/// <summary>The default, in-memory backplane passes the specification every backplane must pass (on one node, its whole cluster).</summary>
public class InMemoryBackplaneTests : RealtimeBackplaneSpecification
{
    protected override int NodeCount => 1;

    protected override void AddBackplane(IServiceCollection services, int node)
    {
        // Nothing to add: AddRealtime registers the in-memory backplane.
    }
}
