using System.IO.Compression;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Realtime.TestSupport;

/// <summary>
/// A small Engine.IO v4 / Socket.IO v5 framing client over a bare WebSocket, written from the public protocol specifications, for
/// wire-level tests of the compatibility endpoint: it speaks (or breaks) the original framework's format packet by packet.
/// </summary>
public sealed class SocketIoTestClient : IAsyncDisposable
{
    private readonly WebSocket _socket;
    private byte[] _buffer = new byte[16 * 1024];

    private SocketIoTestClient(WebSocket socket)
    {
        _socket = socket;
    }

    public WebSocket Socket => _socket;

    /// <summary>The Engine.IO open packet's JSON (<c>sid</c>, <c>upgrades</c>, <c>pingInterval</c>, <c>pingTimeout</c>, <c>maxPayload</c>).</summary>
    public JsonElement Open { get; private set; }

    /// <summary>Whether <see cref="ReceiveAsync"/> answers the server's pings (<c>2</c>) itself and skips them. Default true.</summary>
    public bool AnswerPings { get; set; } = true;

    /// <summary>Pings answered so far.</summary>
    public int PingsAnswered { get; private set; }

    /// <summary>A client id of the original's form: 20 characters of <c>[0-9A-Za-z]</c>, random.</summary>
    public static string NewId()
    {
        const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        return string.Create(20, 0, static (chars, _) =>
        {
            for (int i = 0; i < chars.Length; i++)
            {
                chars[i] = Alphabet[System.Security.Cryptography.RandomNumberGenerator.GetInt32(Alphabet.Length)];
            }
        });
    }

    /// <summary>Opens the WebSocket with <c>EIO=4&amp;transport=websocket</c> and <paramref name="query"/>, and reads the open packet.</summary>
    public static async Task<SocketIoTestClient> ConnectAsync(string url, string query)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await socket.ConnectAsync(new Uri($"{url}?EIO=4&transport=websocket&{query}"), CancellationToken.None).DefaultTimeout("the WebSocket upgrade");
        return await OverAsync(socket);
    }

    /// <summary>Takes over a WebSocket opened elsewhere (a TestServer's, for example) to the endpoint, and reads the open packet.</summary>
    public static async Task<SocketIoTestClient> OverAsync(WebSocket socket)
    {
        var client = new SocketIoTestClient(socket);
        string open = await client.ReceiveAsync() ?? throw new InvalidOperationException("The server closed before its open packet.");
        if (!open.StartsWith('0'))
        {
            throw new InvalidOperationException("The first packet was not an Engine.IO open packet.");
        }

        client.Open = JsonDocument.Parse(open[1..]).RootElement.Clone();
        return client;
    }

    /// <summary>Connects, sends CONNECT (with <paramref name="authJson"/>) and reads the answer, which must be the accept <c>40{"sid":…}</c>.</summary>
    public static async Task<SocketIoTestClient> ConnectAcceptedAsync(string url, string id, string roomId = "room1", string? authJson = null, string extraQuery = "")
    {
        SocketIoTestClient client = await ConnectAsync(url, $"id={id}&roomId={Uri.EscapeDataString(roomId)}{extraQuery}");
        string answer = await client.ConnectNamespaceAsync(authJson);
        if (!answer.StartsWith("40{", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("CONNECT was not accepted: " + answer);
        }

        return client;
    }

    /// <summary>Sends CONNECT to namespace <c>/</c> and returns the server's answer packet (accept <c>40</c> or CONNECT_ERROR <c>44</c>).</summary>
    public async Task<string> ConnectNamespaceAsync(string? authJson = null)
    {
        await SendTextAsync("40" + (authJson ?? string.Empty));
        return await ReceiveAsync() ?? throw new InvalidOperationException($"The server closed ({_socket.CloseStatus}) instead of answering CONNECT.");
    }

    public Task SendTextAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text);

    public Task SendAsync(byte[] bytes, WebSocketMessageType type)
        => _socket.SendAsync(bytes, type, endOfMessage: true, CancellationToken.None).DefaultTimeout("a send");

    /// <summary>Sends an <c>m</c> event as the original client does, compressing by its rule when <paramref name="compress"/> and the rule says so.</summary>
    public Task SendMessageAsync(string? type, string dataJson, bool compress = true)
        => SendTextAsync(EncodeMessage(type, dataJson, compress));

    /// <summary>The text of an <c>m</c> event packet: <c>42["m",[type,data,compressed]]</c>.</summary>
    public static string EncodeMessage(string? type, string dataJson, bool compress = true)
    {
        string typeJson = type is null ? "null" : JsonSerializer.Serialize(type);
        byte[] utf8 = Encoding.UTF8.GetBytes(dataJson);
        if (compress && utf8.Length >= 128)
        {
            // The original's rule: the gzip's bytes against the JSON's, whatever its base64 text then costs.
            byte[] gzipped = Gzip(utf8);
            if (gzipped.Length < utf8.Length)
            {
                return $"42[\"m\",[{typeJson},\"{Convert.ToBase64String(gzipped)}\",true]]";
            }
        }

        return $"42[\"m\",[{typeJson},{dataJson},false]]";
    }

    public static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        {
            gzip.Write(bytes);
        }

        return output.ToArray();
    }

    /// <summary>
    /// Receives the next packet: text as it is, a binary message as <c>binary:</c> and its base64, or <see langword="null"/> when the
    /// server closed (see <see cref="Socket"/>'s close status). Server pings are answered and skipped while <see cref="AnswerPings"/>.
    /// </summary>
    public async Task<string?> ReceiveAsync()
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp(); // pings answered do not extend the deadline
        while (true)
        {
            int count = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                if (count == _buffer.Length)
                {
                    Array.Resize(ref _buffer, _buffer.Length * 2);
                }

                result = await _socket.ReceiveAsync(_buffer.AsMemory(count), CancellationToken.None).AsTask().DefaultTimeout("a packet from the server");
                count += result.Count;
            }
            while (!result.EndOfMessage);

            switch (result.MessageType)
            {
                case WebSocketMessageType.Close:
                    return null;
                case WebSocketMessageType.Binary:
                    return "binary:" + Convert.ToBase64String(_buffer, 0, count);
            }

            string text = Encoding.UTF8.GetString(_buffer, 0, count);
            if (AnswerPings && text == "2" && System.Diagnostics.Stopwatch.GetElapsedTime(start) < TaskTimeoutExtensions.DefaultTimeoutSpan)
            {
                PingsAnswered++;
                await SendTextAsync("3");
                continue;
            }

            return text;
        }
    }

    /// <summary>Reads packets until an <c>m</c> event, and returns its type, its data as JSON text (decompressed) and its compressed flag.</summary>
    public async Task<(string? Type, string DataJson, bool Compressed)> ReceiveMessageAsync()
    {
        string packet = await ReceiveStartingWithAsync("42[\"m\"");
        JsonElement argument = JsonDocument.Parse(packet[2..]).RootElement[1];
        string? type = argument[0].ValueKind == JsonValueKind.Null ? null : argument[0].GetString();
        bool compressed = argument[2].GetBoolean();
        string data = compressed ? Gunzip(Convert.FromBase64String(argument[1].GetString()!)) : argument[1].GetRawText();
        return (type, data, compressed);
    }

    /// <summary>Reads packets until one starts with <paramref name="prefix"/>.</summary>
    /// <remarks>The deadline covers the whole wait: pings answered meanwhile do not extend it.</remarks>
    public async Task<string> ReceiveStartingWithAsync(string prefix)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        var skipped = new List<string>();
        while (true)
        {
            string packet = await ReceiveAsync() ?? throw new InvalidOperationException($"The server closed ({_socket.CloseStatus}) before a packet starting with {prefix}; skipped: {string.Join(" | ", skipped)}");
            if (packet.StartsWith(prefix, StringComparison.Ordinal))
            {
                return packet;
            }

            skipped.Add(packet.Length > 80 ? packet[..80] + "…" : packet);
            if (System.Diagnostics.Stopwatch.GetElapsedTime(start) > TaskTimeoutExtensions.DefaultTimeoutSpan)
            {
                throw new TimeoutException($"No packet starting with {prefix} within {TaskTimeoutExtensions.DefaultTimeoutSpan}; skipped: {string.Join(" | ", skipped)}");
            }
        }
    }

    /// <summary>Reads (and discards) packets until the server closes, answers its close, and returns the close code.</summary>
    public async Task<int> ReceiveCloseAsync()
    {
        while (await ReceiveAsync() is not null)
        {
        }

        if (_socket.State == WebSocketState.CloseReceived)
        {
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).DefaultTimeout("the close answer");
        }

        return (int)_socket.CloseStatus!.Value;
    }

    /// <summary>Closes as the original client does when the app calls <c>close()</c>: DISCONNECT, then the WebSocket close.</summary>
    public async Task DisconnectAsync()
    {
        await SendTextAsync("41");
        await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).DefaultTimeout("the close handshake");
    }

    private static string Gunzip(byte[] gzipped)
    {
        using var gzip = new GZipStream(new MemoryStream(gzipped), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    public ValueTask DisposeAsync()
    {
        _socket.Abort();
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
