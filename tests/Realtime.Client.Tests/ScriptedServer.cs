using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Realtime.Protocol;
using Realtime.Testing;
using Realtime.TestSupport;

namespace Realtime.Client.Tests;

/// <summary>
/// A server on real Kestrel at 127.0.0.1 that speaks protocol v1 by hand, running a script for each WebSocket it accepts: for
/// what the client writes, and for frames that the real server sends only in some configurations. The client is the real one,
/// over real sockets; nothing of it is mocked.
/// </summary>
/// <remarks>
/// Each connection's <c>hello</c> is read before its script runs (and recorded in <see cref="Hellos"/>). When the script returns
/// with the socket still open, the server keeps reading until the client closes, so the connection stays up. Dispose the clients
/// before the server: their close ends the connections.
/// </remarks>
internal sealed class ScriptedServer : IAsyncDisposable
{
    private readonly Func<ScriptedConnection, Task> _script;
    private RealtimeTestHost _host = null!;
    private int _accepted;

    private ScriptedServer(Func<ScriptedConnection, Task> script) => _script = script;

    /// <summary>The <c>hello</c> of each connection, in the order they were accepted, as the client wrote it.</summary>
    public WatchedList<string> Hellos { get; } = new();

    /// <summary>The endpoint: <c>ws://127.0.0.1:port/realtime</c>.</summary>
    public string Url => _host.Url.ToString();

    /// <summary>Starts the server.</summary>
    /// <param name="script">What the server does on each connection after its <c>hello</c>; <see cref="ScriptedConnection.Index"/> tells them apart.</param>
    public static async Task<ScriptedServer> StartAsync(Func<ScriptedConnection, Task> script)
    {
        var server = new ScriptedServer(script);
        server._host = await RealtimeTestHost.StartAppAsync(_ => { }, app =>
        {
            app.UseWebSockets();
            app.Run(server.ServeAsync);
        }).DefaultTimeout("Kestrel to start");
        return server;
    }

    /// <summary>The decoded <c>hello</c> of connection <paramref name="index"/> (0 for the first), once it has arrived.</summary>
    public async Task<Frame> HelloAsync(int index)
    {
        await Hellos.WaitForAsync(h => h.Count > index, $"the hello of connection {index}");
        return FrameReader.ReadClientText(Encoding.UTF8.GetBytes(Hellos.Items[index]));
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    private async Task ServeAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        using WebSocket socket = await context.WebSockets.AcceptWebSocketAsync(ProtocolLimits.SubProtocol);
        int index = Interlocked.Increment(ref _accepted) - 1;
        var connection = new ScriptedConnection(socket, index, context.RequestAborted);
        try
        {
            (string? hello, _) = await connection.ReceiveAsync();
            if (hello is null)
            {
                return;
            }

            Hellos.Add(hello);
            await _script(connection);
            while (socket.State == WebSocketState.Open && (await connection.ReceiveAsync()).Text is not null)
            {
                // Holds the connection open until the client closes it.
            }

            if (socket.State == WebSocketState.CloseReceived)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, string.Empty, context.RequestAborted);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // The client went away, or the server is stopping.
        }
    }
}

/// <summary>One connection of a <see cref="ScriptedServer"/>, after its <c>hello</c>.</summary>
/// <param name="socket">The accepted WebSocket.</param>
/// <param name="index">0 for the server's first connection, then 1, 2…</param>
/// <param name="aborted">The request's abort.</param>
internal sealed class ScriptedConnection(WebSocket socket, int index, CancellationToken aborted)
{
    /// <summary>0 for the server's first connection, then 1, 2…</summary>
    public int Index => index;

    /// <summary>Sends a <c>welcome</c> (a 20-character id made of the index, a heartbeat that never fires during a test), with the recovery fields given.</summary>
    public Task WelcomeAsync(string? resume = null, string? pos = null, bool? recovered = null)
        => SendAsync(w => FrameWriter.WriteWelcome(w, $"C{index:D19}", "room1", pingInterval: 60_000, pingTimeout: 60_000, maxMessageSize: 64 * 1024,
                                                   resume, pos, recovered), binary: false);

    /// <summary>Sends a message without a position (a direct send, or a server without recovery).</summary>
    public Task SendAsync(Message message)
        => SendAsync(w => FrameWriter.WriteMessage(w, message, message.Type, JsonSerializerOptions.Default), message.IsBinary);

    /// <summary>Sends a room broadcast with its position: a <c>msg</c> with <c>pos</c>, or a binary frame that starts with 0x02.</summary>
    public Task SendAsync(Message message, string position)
        => SendAsync(w => FrameWriter.WritePositionedMessage(w, message, position), message.IsBinary);

    /// <summary>Closes with 1001 (the server going away: the client reconnects) after everything sent so far, and waits for the client's close.</summary>
    public async Task GoAwayAsync()
    {
        await socket.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "going away", aborted);
        while ((await ReceiveAsync()).Text is not null)
        {
        }
    }

    /// <summary>Receives the next text message from the client.</summary>
    public async Task<string> ReceiveTextAsync()
    {
        (string? text, WebSocketMessageType type) = await ReceiveAsync();
        Assert.NotNull(text);
        Assert.Equal(WebSocketMessageType.Text, type);
        return text;
    }

    /// <summary>The next whole message (binary as base64); <see langword="null"/> when the client closed.</summary>
    internal async Task<(string? Text, WebSocketMessageType Type)> ReceiveAsync()
    {
        var buffer = new ArrayBufferWriter<byte>();
        ValueWebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer.GetMemory(4096), aborted);
            buffer.Advance(result.Count);
        }
        while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

        return result.MessageType switch
        {
            WebSocketMessageType.Close => (null, result.MessageType),
            WebSocketMessageType.Text => (Encoding.UTF8.GetString(buffer.WrittenSpan), result.MessageType),
            _ => (Convert.ToBase64String(buffer.WrittenSpan), result.MessageType),
        };
    }

    private Task SendAsync(Action<ArrayBufferWriter<byte>> write, bool binary)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(buffer);
        return socket.SendAsync(buffer.WrittenMemory, binary ? WebSocketMessageType.Binary : WebSocketMessageType.Text, endOfMessage: true, aborted).AsTask();
    }
}
