using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Realtime.Testing;
using Realtime.TestSupport;

namespace Realtime.Server.Tests.Documents;

/// <summary>Which store the documents use: the one set in the options, else the one registered in the application's services.</summary>
public sealed class DocumentStoreRegistrationTests
{
    [Fact]
    public async Task A_store_registered_in_the_services_holds_the_documents_when_the_options_name_none()
    {
        var registered = new InMemoryDocumentStore();
        await using RealtimeTestHost host = await StartAsync(registered, configure: null);

        await host.Services.GetRequiredService<RealtimeServer>().GetDocumentService().CreateAsync("doc", OtTypes.Json0.Uri, new JsonObject { ["n"] = 1 });

        Assert.Equal(1, (await registered.GetRecordAsync("doc"))?.Version);
    }

    [Fact]
    public async Task The_store_in_the_options_wins_over_the_registered_one()
    {
        var registered = new InMemoryDocumentStore();
        var chosen = new InMemoryDocumentStore();
        await using RealtimeTestHost host = await StartAsync(registered, o => o.Store = chosen);

        await host.Services.GetRequiredService<RealtimeServer>().GetDocumentService().CreateAsync("doc", OtTypes.Json0.Uri, new JsonObject { ["n"] = 1 });

        Assert.Equal(1, (await chosen.GetRecordAsync("doc"))?.Version);
        Assert.Null(await registered.GetRecordAsync("doc"));
    }

    private static Task<RealtimeTestHost> StartAsync(DocumentStore registered, Action<DocumentOptions>? configure)
        => RealtimeTestHost.StartAppAsync(
            builder => builder.Services.AddRealtime().Services.AddSingleton<DocumentStore>(registered),
            app => app.MapRealtime("/realtime", server => server.UseDocuments(configure))).DefaultTimeout("the app to start");
}
