using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Realtime.Protocol;
using Realtime.TestSupport;

namespace Realtime.Browser.Tests;

/// <summary>
/// A stand-in server at <see cref="Path"/> that speaks protocol v1 as a test's script says, for what the browser client does with frames
/// the real server sends only in some states. Each connection's <c>hello</c> and the text frames after it are recorded; the frames
/// are written with the server's own <see cref="FrameWriter"/>, and the <c>hello</c> is read with its <see cref="FrameReader"/>.
/// </summary>
/// <param name="script">What to send on a connection once its <c>hello</c> has arrived; the connection then stays open until dropped.</param>
internal sealed class ScriptedEndpoint(Func<ScriptedConnection, Task> script)
{
    public const string Path = "/scripted";

    private CancellationToken _stopping;

    /// <summary>The connections so far, in the order their <c>hello</c> arrived.</summary>
    public WatchedList<ScriptedConnection> Connections { get; } = new();

    public void Map(WebApplication app)
    {
        _stopping = app.Lifetime.ApplicationStopping;
        IApplicationBuilder endpoint = ((IEndpointRouteBuilder)app).CreateApplicationBuilder();
        endpoint.UseWebSockets();
        endpoint.Run(HandleAsync);
        app.Map(Path, endpoint.Build());
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        using WebSocket socket = await context.WebSockets.AcceptWebSocketAsync("realtime.v1");
        // The connection ends with the page, with a drop, or when the app stops (which waits for it).
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping);
        var connection = new ScriptedConnection(context, socket, Connections.Items.Count, ended.Token);
        try
        {
            string? hello = await connection.ReceiveTextAsync();
            if (hello is null)
            {
                return;
            }

            connection.Hello = FrameReader.ReadClientText(Encoding.UTF8.GetBytes(hello));
            Connections.Add(connection);
            await script(connection);
            while (await connection.ReceiveTextAsync() is { } text)
            {
                connection.Received.Add(text);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // The test dropped the connection, or the page went away.
        }
    }
}

/// <summary>One connection to a <see cref="ScriptedEndpoint"/>: the script's way to answer, and what the page sent.</summary>
internal sealed class ScriptedConnection(HttpContext context, WebSocket socket, int index, CancellationToken ended)
{
    /// <summary>The connection's place among the endpoint's connections, from 0.</summary>
    public int Index { get; } = index;

    /// <summary>The <c>hello</c> the page sent, as the server reads it.</summary>
    public Frame Hello { get; set; }

    /// <summary>The text frames the page sent after its <c>hello</c>.</summary>
    public WatchedList<string> Received { get; } = new();

    /// <summary>Sends a <c>welcome</c> with the recovery fields given (<see langword="null"/>: none).</summary>
    public Task WelcomeAsync(string? resumeToken = null, string? position = null, bool? recovered = null)
    {
        var frame = new ArrayBufferWriter<byte>();
        FrameWriter.WriteWelcome(frame, new string((char)('A' + Index), 20), "room1", 25_000, 20_000, 1 << 20, resumeToken, position, recovered);
        return SendAsync(frame.WrittenMemory, WebSocketMessageType.Text);
    }

    /// <summary>Sends a room broadcast at <paramref name="position"/>, or without one (a direct send) when it is <see langword="null"/>.</summary>
    public Task MessageAsync(Message message, string? position)
    {
        var frame = new ArrayBufferWriter<byte>();
        bool binary;
        if (position is null)
        {
            binary = message.IsBinary;
            if (binary)
            {
                FrameWriter.WriteBinaryMessage(frame, message.Type, message.Bytes.Span);
            }
            else
            {
                FrameWriter.WriteTextMessage(frame, message.Type, message.Data);
            }
        }
        else
        {
            binary = FrameWriter.WritePositionedMessage(frame, message, position);
        }

        return SendAsync(frame.WrittenMemory, binary ? WebSocketMessageType.Binary : WebSocketMessageType.Text);
    }

    /// <summary>Cuts the connection with no close frame, as a network that drops does.</summary>
    public void Drop() => context.Abort();

    /// <summary>The next text frame, or <see langword="null"/> when the page closed.</summary>
    public async Task<string?> ReceiveTextAsync()
    {
        var buffer = new ArrayBufferWriter<byte>();
        ValueWebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer.GetMemory(4096), ended);
            buffer.Advance(result.Count);
        }
        while (!result.EndOfMessage);

        return result.MessageType == WebSocketMessageType.Close ? null : Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private Task SendAsync(ReadOnlyMemory<byte> frame, WebSocketMessageType type)
        => socket.SendAsync(frame, type, endOfMessage: true, ended).AsTask();
}
