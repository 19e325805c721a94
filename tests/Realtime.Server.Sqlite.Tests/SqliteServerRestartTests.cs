using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Realtime.Testing;
using Realtime.TestSupport;

namespace Realtime.Server.Sqlite.Tests;

/// <summary>A real server with <c>AddSqliteDocumentStore</c>: a document edited over the wire is there, whole, after the app restarts.</summary>
public sealed class SqliteServerRestartTests : IDisposable
{
    private readonly TempDatabase _database = new();

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task A_document_edited_through_the_server_survives_stopping_and_restarting_the_app_on_the_same_file_and_so_does_its_history()
    {
        string history;
        string fetched;
        await using (RealtimeTestHost host = await StartAsync())
        {
            await using OtDocClient client = await OtDocClient.ConnectAsync(host.Url.ToString(), "doc");
            await client.SubmitAsync("""{"a":5,"seq":1,"x":{},"create":{"type":"json0","data":{"items":[]}}}""", 0);
            await client.SubmitAsync("""{"a":5,"seq":2,"v":1,"x":{},"op":[{"p":["items",0],"li":"milk"}]}""", 1);
            await client.SubmitAsync("""{"a":5,"seq":3,"v":2,"x":{},"op":[{"p":["items",1],"li":"bread"}]}""", 2);
            await client.SubmitAsync("""{"a":5,"seq":4,"v":3,"x":{},"op":[{"p":["items",0],"ld":"milk"}]}""", 3);
            history = (await client.AskAsync("""{"a":2,"id":"doc","v":2}""")).GetRawText();
            fetched = (await client.AskAsync("""{"a":0}""")).GetRawText();
            Assert.Contains("\"milk\"", history, StringComparison.Ordinal);
        }

        await using (RealtimeTestHost restarted = await StartAsync())
        {
            await using OtDocClient client = await OtDocClient.ConnectAsync(restarted.Url.ToString(), "doc");
            JsonElement snapshot = await client.AskAsync("""{"a":0}""");
            Assert.Equal(fetched, snapshot.GetRawText());
            Assert.Equal(4, snapshot.GetProperty("data").GetProperty("v").GetInt64());
            Assert.Equal("""["bread"]""", snapshot.GetProperty("data").GetProperty("data").GetProperty("items").GetRawText());
            Assert.Equal(history, (await client.AskAsync("""{"a":2,"id":"doc","v":2}""")).GetRawText());

            // Editing goes on from the stored version, and the log holds every op from the create on.
            await client.SubmitAsync("""{"a":5,"seq":1,"v":4,"x":{},"op":[{"p":["items",1],"li":"tea"}]}""", 4);
            (List<JsonElement> ops, JsonElement after) = await client.FetchAllAsync();
            Assert.Equal([0L, 1L, 2L, 3L, 4L], ops.Select(op => op.GetProperty("v").GetInt64()));
            Assert.Equal("""["bread","tea"]""", after.GetProperty("data").GetProperty("items").GetRawText());
        }
    }

    private Task<RealtimeTestHost> StartAsync()
        => RealtimeTestHost.StartAppAsync(
            builder => builder.Services.AddRealtime().AddSqliteDocumentStore(_database.File),
            app => app.MapRealtime(RealtimeTestHost.DefaultPath, server => server.UseDocuments())).DefaultTimeout("the app to start");
}
