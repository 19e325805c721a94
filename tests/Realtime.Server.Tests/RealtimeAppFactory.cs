using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Realtime.Client;
using Realtime.Server;
using Realtime.TestSupport;

namespace Realtime.Server.Tests;

/// <summary>The host's own Program (the relay app) in memory; clients connect through the TestServer's WebSocket client.</summary>
public sealed class RealtimeAppFactory(Action<RealtimeOptions>? configure = null) : WebApplicationFactory<Program>
{
    private string[] _expectedErrors = [];

    public LogSink Logs { get; } = new();

    /// <summary>Error-level events this test provokes on purpose; any other error log fails the test when the factory is disposed.</summary>
    public void ExpectErrors(params string[] eventNames) => _expectedErrors = eventNames;

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Logs.AssertNoUnexpectedErrors(_expectedErrors);
    }

    private ServerConnectionProbe? _probe;

    public RealtimeServer RealtimeServer => Services.GetRequiredService<RealtimeServer>();

    /// <summary>Awaits server-side connections (their connect hooks have run); attached before any client connects.</summary>
    public ServerConnectionProbe Connections => _probe ??= new ServerConnectionProbe(RealtimeServer);

    public Client.Client CreateRealtimeClient(ClientOptions? options = null)
    {
        TestServer server = Server;
        _ = Connections;
        options ??= new ClientOptions();
        options.LoggerFactory ??= LoggerFactory.Create(b => b.AddProvider(Logs));
        options.WebSocketFactory = async (uri, protocols, ct) =>
        {
            WebSocketClient client = server.CreateWebSocketClient();
            foreach (string protocol in protocols)
            {
                client.SubProtocols.Add(protocol);
            }

            return await client.ConnectAsync(uri, ct);
        };
        return new Client.Client("ws://localhost/realtime", options);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Realtime:Documents:Store", "memory"); // the host's default, a SQLite file under its content root, is not for tests
        builder.ConfigureLogging(logging => logging.ClearProviders().SetMinimumLevel(LogLevel.Debug).AddProvider(Logs));
        if (configure is not null)
        {
            builder.ConfigureTestServices(services => services.Configure(configure));
        }
    }
}
