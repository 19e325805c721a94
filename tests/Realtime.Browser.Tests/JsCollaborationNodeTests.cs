using System.Diagnostics;
using System.Text.Json;
using Realtime.Server;
using Realtime.Testing;
using Realtime.TestSupport;
using Xunit.Abstractions;

namespace Realtime.Browser.Tests;

/// <summary>
/// The original framework's client behaviour, through the MIT-licensed socket.io-client in Node.js, against the compatibility
/// endpoint of a real server: tests/js-collaboration/compat.e2e.js (messaging and faults) and presence.e2e.js (the presence wire of
/// js-collaboration-features.md §4) and documents.e2e.js (the document wire of §3). A script asks for faults on stdout
/// (<c>@@control stop|start|blackhole|blackhole-down|corrupt|heal|reset</c>); this test applies them to the server or to a fault proxy in front of it and
/// answers <c>ok</c> on stdin.
/// </summary>
public sealed class JsCollaborationNodeTests(ITestOutputHelper output)
{
    [SocketIoClientFact]
    public Task The_original_clients_behaviour_holds_against_the_compatibility_endpoint() => RunAsync("compat.e2e.js", tests: 18);

    [SocketIoClientFact]
    public Task The_presence_wire_holds_against_the_compatibility_endpoint() => RunAsync("presence.e2e.js", tests: 9);

    [SocketIoClientFact]
    public Task The_document_wire_holds_against_the_compatibility_endpoint() => RunAsync("documents.e2e.js", tests: 23);

    /// <summary>Runs <paramref name="script"/> against a new server and proxy; all its <paramref name="tests"/> tests must pass.</summary>
    private async Task RunAsync(string script, int tests)
    {
        KestrelRealtimeHost host = await StartAsync(port: 0);
        await using FaultProxy proxy = await FaultProxy.StartAsync(new Uri($"ws://127.0.0.1:{host.Port}/"));
        try
        {
            string node = Requirements.Node ?? throw new InvalidOperationException(Requirements.NodeMissing);
            var start = new ProcessStartInfo(node)
            {
                WorkingDirectory = RepositoryPaths.JsCollaborationTests,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add("--experimental-websocket");
            start.ArgumentList.Add(script);
            start.Environment["REALTIME_ORIGIN"] = $"ws://127.0.0.1:{host.Port}";
            start.Environment["REALTIME_PROXY_ORIGIN"] = $"ws://127.0.0.1:{proxy.Port}";

            using Process process = Process.Start(start)!;
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            var text = new System.Text.StringBuilder();
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            try
            {
                while (await process.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
                {
                    text.AppendLine(line);
                    if (!line.StartsWith("@@control ", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    switch (line["@@control ".Length..])
                    {
                        case "stop":
                            await host.StopAsync();
                            break;
                        case "start":
                            host = await StartAsync(host.Port);
                            break;
                        case "blackhole":
                            proxy.Blackhole();
                            break;
                        case "blackhole-down":
                            proxy.Blackhole(FaultDirection.ServerToClient);
                            break;
                        case "heal":
                            proxy.Heal();
                            break;
                        case "corrupt":
                            proxy.Corrupt(FaultDirection.ServerToClient);
                            break;
                        case "reset":
                            proxy.ResetConnections();
                            break;
                        default:
                            throw new InvalidOperationException("Unknown control command: " + line);
                    }

                    await process.StandardInput.WriteLineAsync("ok");
                    await process.StandardInput.FlushAsync();
                }

                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("node did not finish within 120 s: " + text);
            }

            string all = text + await stderr;
            output.WriteLine(all);
            Assert.True(process.ExitCode == 0, all);
            Assert.Contains($"# pass {tests}", all, StringComparison.Ordinal);
            Assert.Contains("# fail 0", all, StringComparison.Ordinal);
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    /// <summary>
    /// The server the scripts expect (see compat.e2e.js; presence.e2e.js needs its presence feature, documents.e2e.js its
    /// documents with the middleware described there), on <paramref name="port"/> (0: a free one; a port again: a restart).
    /// </summary>
    private static Task<KestrelRealtimeHost> StartAsync(int port) => KestrelRealtimeHost.StartAsync(o =>
    {
        // A short heartbeat for the silent-network test, with a timeout that a cold start on a busy machine does not trip: a ping
        // timeout in the middle of another test drops what that connection was about to receive.
        o.PingInterval = TimeSpan.FromMilliseconds(500);
        o.PingTimeout = TimeSpan.FromMilliseconds(2000);
    }, s => s
        .UsePresence()
        .UseDocuments(o => o
            .Use(DocumentAction.Submit, async (ctx, next) =>
            {
                // An op that sets a value "forbidden" is refused as the original's plain error; "silent" with code 19.
                if (SetsValue(ctx.Request, "forbidden"))
                {
                    ctx.Reject("Forbidden");
                    return;
                }

                if (SetsValue(ctx.Request, "silent"))
                {
                    ctx.Reject(19, "Op submit rejected");
                    return;
                }

                await next();
            })
            .Use(DocumentAction.ReadSnapshots, async (ctx, next) =>
            {
                if (ctx.DocumentId.StartsWith("unreadable-", StringComparison.Ordinal))
                {
                    ctx.Reject("Not readable");
                    return;
                }

                await next();
            }))
        .Use(ServerEvents.Connect, async (ctx, next) =>
        {
            if (ctx.Connection.Auth.ValueKind == JsonValueKind.Object && ctx.Connection.Auth.TryGetProperty("token", out JsonElement token) && token.GetString() == "bad")
            {
                ctx.Reject("Authentication failed");
                return;
            }

            await next();
        })
        .Use(ServerEvents.Message, async (ctx, next) =>
        {
            if (ctx.Type == "forbidden")
            {
                ctx.Reject("Not allowed");
                return;
            }

            await next();
        })
        .On(ServerEvents.Message, ctx =>
        {
            ServerConnection connection = ctx.Connection;
            switch (ctx.Type)
            {
                case "whoami":
                    connection.Send(new
                    {
                        id = connection.Id,
                        roomId = connection.RoomId,
                        user = connection.Query.GetValueOrDefault("user"),
                        token = connection.Auth.ValueKind == JsonValueKind.Object ? connection.Auth.GetProperty("token").GetString() : null,
                    }, "whoami");
                    break;
                case "echo":
                    connection.Send(ctx.Message);
                    break;
                case "close-me":
                    connection.Close();
                    break;
                default:
                    connection.Broadcast(ctx.Message);
                    break;
            }
        })
        .On(ServerEvents.Disconnect, ctx => s.Broadcast(ctx.Connection.RoomId, new { id = ctx.Connection.Id, reason = ctx.Reason.ToString() }, "left")),
        port: port);

    /// <summary>Whether the ot-doc request is an op with a json0 component that inserts <paramref name="value"/> (<c>oi</c>).</summary>
    private static bool SetsValue(JsonElement request, string value)
        => request.ValueKind == JsonValueKind.Object && request.TryGetProperty("op", out JsonElement op) && op.ValueKind == JsonValueKind.Array &&
           op.EnumerateArray().Any(c => c.ValueKind == JsonValueKind.Object && c.TryGetProperty("oi", out JsonElement oi) &&
                                        oi.ValueKind == JsonValueKind.String && oi.GetString() == value);
}
