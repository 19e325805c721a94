using Realtime.TestSupport;

namespace Realtime.Server.PostgreSql.Tests;

/// <summary>The store specification on a real PostgreSQL, each test on tables of its own.</summary>
[Collection(PostgresCollection.Name)]
[RequiresPostgres]
public sealed class PostgresDocumentStoreSpecificationTests(PostgresFixture postgres) : DocumentStoreSpecification
{
    protected override Task<DocumentStore> CreateStoreAsync() => Task.FromResult<DocumentStore>(postgres.NewStore());

    protected override async Task DisposeStoreAsync(DocumentStore store) => await ((PostgresDocumentStore)store).DisposeAsync();
}
