using Realtime.TestSupport;
using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: TestFramework("Realtime.Server.PostgreSql.Tests.SkippingTestFramework", "Realtime.Server.PostgreSql.Tests")]

namespace Realtime.Server.PostgreSql.Tests;

/// <summary>
/// xunit's framework, except that every test of a class marked with an <see cref="ISkipCondition"/> whose reason is not null is reported
/// skipped with that reason: the store specification's facts (plain <c>[Fact]</c>s of a base class) are skipped too where PostgreSQL is
/// not installed.
/// </summary>
public sealed class SkippingTestFramework(IMessageSink messageSink) : XunitTestFramework(messageSink)
{
    protected override ITestFrameworkDiscoverer CreateDiscoverer(IAssemblyInfo assemblyInfo)
        => new Discoverer(assemblyInfo, SourceInformationProvider, DiagnosticMessageSink);

    private sealed class Discoverer(IAssemblyInfo assemblyInfo, ISourceInformationProvider sourceProvider, IMessageSink diagnosticMessageSink)
        : XunitTestFrameworkDiscoverer(assemblyInfo, sourceProvider, diagnosticMessageSink)
    {
        protected override bool FindTestsForMethod(ITestMethod testMethod, bool includeSourceInformation, IMessageBus messageBus, ITestFrameworkDiscoveryOptions discoveryOptions)
        {
            string? skip = testMethod.TestClass.Class.ToRuntimeType()?.GetCustomAttributes(inherit: true).OfType<ISkipCondition>()
                .Select(condition => condition.SkipReason).FirstOrDefault(reason => reason is not null);
            if (skip is null || !testMethod.Method.GetCustomAttributes(typeof(FactAttribute)).Any())
            {
                return base.FindTestsForMethod(testMethod, includeSourceInformation, messageBus, discoveryOptions);
            }

            return ReportDiscoveredTestCase(new XunitSkippedDataRowTestCase(DiagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(),
                                                                            discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, skip),
                                            includeSourceInformation, messageBus);
        }
    }
}
