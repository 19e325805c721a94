using Microsoft.Extensions.DependencyInjection;

namespace Realtime.Server;

/// <summary>What <c>AddRealtime</c> returns: add-ons (for example a scale-out backplane) chain extension methods on it.</summary>
public interface IRealtimeBuilder
{
    /// <summary>The application's services.</summary>
    IServiceCollection Services { get; }
}
