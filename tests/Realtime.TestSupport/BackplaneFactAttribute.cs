using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Realtime.TestSupport;

/// <summary>
/// A fact of <see cref="RealtimeBackplaneSpecification"/>: it runs in every derived class, and is skipped (with the reason) in a class
/// marked with an <see cref="ISkipCondition"/> attribute whose reason is not null (for example a backplane whose real component,
/// such as redis-server, is not installed).
/// </summary>
[XunitTestCaseDiscoverer("Realtime.TestSupport.BackplaneFactDiscoverer", "Realtime.TestSupport")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class BackplaneFactAttribute : FactAttribute;

/// <summary>A test class attribute that says why its tests cannot run here, or <see langword="null"/> when they can.</summary>
public interface ISkipCondition
{
    string? SkipReason { get; }
}

/// <summary>Discovers <see cref="BackplaneFactAttribute"/> tests, skipped where the derived test class's condition says so.</summary>
public sealed class BackplaneFactDiscoverer(IMessageSink diagnosticMessageSink) : FactDiscoverer(diagnosticMessageSink)
{
    private readonly IMessageSink _sink = diagnosticMessageSink;

    public override IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        Type? type = testMethod.TestClass.Class.ToRuntimeType();
        string? skip = type?.GetCustomAttributes(inherit: true).OfType<ISkipCondition>().Select(c => c.SkipReason).FirstOrDefault(r => r is not null);
        if (skip is null)
        {
            return base.Discover(discoveryOptions, testMethod, factAttribute);
        }

        return [new XunitSkippedDataRowTestCase(_sink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, skip)];
    }
}
