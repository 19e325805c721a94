using Realtime.TestSupport;

namespace Realtime.Server.Sqlite.Tests;

/// <summary>The SQLite store passes the store specification, on a file of its own per test.</summary>
public sealed class SqliteDocumentStoreSpecificationTests : DocumentStoreSpecification
{
    private readonly TempDatabase _database = new();

    protected override Task<DocumentStore> CreateStoreAsync() => Task.FromResult<DocumentStore>(new SqliteDocumentStore(_database.File));

    protected override Task DisposeStoreAsync(DocumentStore store)
    {
        ((SqliteDocumentStore)store).Dispose();
        _database.Dispose();
        return Task.CompletedTask;
    }
}
