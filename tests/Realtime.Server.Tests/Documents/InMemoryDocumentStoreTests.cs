using Realtime.TestSupport;

namespace Realtime.Server.Tests.Documents;

/// <summary>The in-memory store passes the store specification.</summary>
public sealed class InMemoryDocumentStoreTests : DocumentStoreSpecification
{
    protected override Task<DocumentStore> CreateStoreAsync() => Task.FromResult<DocumentStore>(new InMemoryDocumentStore());
}
