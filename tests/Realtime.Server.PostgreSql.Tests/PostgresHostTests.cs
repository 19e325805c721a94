using System.Text.Json;
using Realtime.TestSupport;

namespace Realtime.Server.PostgreSql.Tests;

/// <summary>The runnable host with <c>Realtime:Documents:Postgres</c> alone set (as the compose file's nodes): its documents are in
/// PostgreSQL.</summary>
[Collection(PostgresCollection.Name)]
[RequiresPostgres]
public sealed class PostgresHostTests(PostgresFixture postgres)
{
    [Fact]
    public async Task The_connection_string_alone_puts_the_hosts_documents_in_PostgreSQL()
    {
        await using HostProcess host = await HostProcess.StartAsync(new Dictionary<string, string>
        {
            ["Realtime__Documents__Postgres"] = postgres.ConnectionString, // the host's tables, in the schema "public"
        });
        await using var peer = new WirePeer(await RawProtocolClient.ConnectWelcomedAsync(host.Url, "roomId=host-doc").DefaultTimeout("a peer to connect"));
        JsonElement ack = await peer.AskAsync("""{"a":5,"seq":1,"x":{},"create":{"type":"json0","data":{"n":1}}}""");
        Assert.Equal(0, ack.GetProperty("v").GetInt64());

        await using PostgresDocumentStore store = postgres.NewStore("public");
        DocumentRecord record = (await store.GetRecordAsync("host-doc"))!;
        Assert.Equal(1, record.Version);
        Assert.Equal("http://sharejs.org/types/JSONv0", record.Type);
    }
}
