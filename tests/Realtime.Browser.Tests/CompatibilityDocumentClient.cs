using System.IO.Compression;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Realtime.TestSupport;

namespace Realtime.Browser.Tests;

/// <summary>
/// A client of the compatibility endpoint's document wire (the original's <c>ot-doc</c> messages, js-collaboration-features.md §3)
/// that runs no OT algorithm: it submits each op at the newest version it has heard of and lets the server transform it, one op at a
/// time, each awaited by its ack (its <c>src</c> and <c>seq</c>). A receive loop answers the server's pings and keeps every
/// <c>ot-doc</c> message in order; <see cref="Transcript"/> has every frame both ways, for a failure's report.
/// </summary>
internal sealed class CompatibilityDocumentClient : IAsyncDisposable
{
    private readonly SocketIoTestClient _client;
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _transcriptGate = new();
    private readonly List<string> _transcript = [];
    private readonly Task _receiving;
    private int _seq;
    private long _known;

    private CompatibilityDocumentClient(SocketIoTestClient client, string id)
    {
        _client = client;
        Id = id;
        _receiving = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>The connection id the client chose: the <c>src</c> of its ops.</summary>
    public string Id { get; }

    /// <summary>Every <c>ot-doc</c> message received, in order (decompressed).</summary>
    public WatchedList<JsonElement> Received { get; } = new();

    /// <summary>Every frame sent (→) and received (←), pings and pongs left out.</summary>
    public IReadOnlyList<string> Transcript
    {
        get
        {
            lock (_transcriptGate)
            {
                return [.. _transcript];
            }
        }
    }

    /// <summary>Connects to <paramref name="url"/> (the compatibility endpoint) in <paramref name="roomId"/> as the original client does.</summary>
    public static async Task<CompatibilityDocumentClient> ConnectAsync(string url, string roomId)
    {
        string id = SocketIoTestClient.NewId();
        return new CompatibilityDocumentClient(await SocketIoTestClient.ConnectAcceptedAsync(url, id, roomId), id);
    }

    /// <summary>Subscribes (<c>a:3</c>) and returns the snapshot of the reply (<c>{id, v, type, data}</c>).</summary>
    public async Task<JsonElement> SubscribeAsync()
    {
        JsonElement snapshot = (await RequestAsync("""{"a":3}""", m => Action(m) == 3, "the subscribe's reply")).GetProperty("data");
        Know(snapshot.GetProperty("v").GetInt64());
        return snapshot;
    }

    /// <summary>Fetches (<c>a:0</c>) and returns the snapshot of the reply (<c>{id, v, type, data}</c>).</summary>
    public async Task<JsonElement> FetchAsync()
        => (await RequestAsync("""{"a":0}""", m => Action(m) == 0, "the fetch's reply")).GetProperty("data");

    /// <summary>
    /// Submits <paramref name="ops"/> (json0 ops as JSON text) one after the other, each at the newest version heard of so far (a
    /// subscription's ops and this client's acks), each awaited by its ack; returns the versions they were committed at.
    /// </summary>
    public async Task<IReadOnlyList<long>> SubmitEachAsync(IEnumerable<string> ops)
    {
        var versions = new List<long>();
        foreach (string op in ops)
        {
            int seq = ++_seq;
            JsonElement ack = await RequestAsync($$$"""{"a":5,"seq":{{{seq}}},"v":{{{Volatile.Read(ref _known)}}},"op":{{{op}}},"x":{}}""",
                                                 m => Action(m) == 5 && Src(m) == Id && m.GetProperty("seq").GetInt32() == seq && !m.TryGetProperty("op", out _),
                                                 $"the ack of seq {seq}");
            long v = ack.GetProperty("v").GetInt64();
            Know(v + 1);
            versions.Add(v);
        }

        return versions;
    }

    /// <summary>The <c>src</c> of a message, or <see langword="null"/>.</summary>
    public static string? Src(JsonElement message)
        => message.TryGetProperty("src", out JsonElement src) && src.ValueKind == JsonValueKind.String ? src.GetString() : null;

    private static int? Action(JsonElement message)
        => message.TryGetProperty("a", out JsonElement a) && a.ValueKind == JsonValueKind.Number ? a.GetInt32() : null;

    private void Know(long version)
    {
        long known;
        while (version > (known = Volatile.Read(ref _known)) && Interlocked.CompareExchange(ref _known, version, known) != known)
        {
        }
    }

    /// <summary>
    /// Sends <paramref name="request"/> and returns the first message after it that <paramref name="isReply"/>; an error reply to it
    /// (the request echoed with <c>error</c>: its action, and its seq if it has one) fails.
    /// </summary>
    private async Task<JsonElement> RequestAsync(string request, Func<JsonElement, bool> isReply, string what)
    {
        JsonElement sent = JsonDocument.Parse(request).RootElement.Clone();
        bool IsRefusal(JsonElement m) => m.TryGetProperty("error", out _) && Action(m) == Action(sent) &&
                                         (!sent.TryGetProperty("seq", out JsonElement seq) || (m.TryGetProperty("seq", out JsonElement echoed) && echoed.GetRawText() == seq.GetRawText()));
        int from = Received.Items.Count;
        await SendAsync(SocketIoTestClient.EncodeMessage("ot-doc", request));
        JsonElement? reply = null;
        await Received.WaitForAsync(items =>
        {
            for (int i = from; i < items.Count && reply is null; i++)
            {
                if (IsRefusal(items[i]) || isReply(items[i]))
                {
                    reply = items[i];
                }
            }

            return reply is not null;
        }, what);
        return IsRefusal(reply!.Value) ? throw new InvalidOperationException($"The server refused {request}: {reply.Value.GetRawText()}") : reply.Value;
    }

    private async Task SendAsync(string text)
    {
        await _sendGate.WaitAsync(_stop.Token);
        try
        {
            if (text != "3")
            {
                Record("→ " + text);
            }

            await _client.SendTextAsync(text);
        }
        finally
        {
            _sendGate.Release();
        }
    }

    private void Record(string line)
    {
        lock (_transcriptGate)
        {
            _transcript.Add(line);
        }
    }

    private async Task ReceiveLoopAsync()
    {
        WebSocket socket = _client.Socket;
        byte[] buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int count = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (count == buffer.Length)
                    {
                        Array.Resize(ref buffer, buffer.Length * 2);
                    }

                    result = await socket.ReceiveAsync(buffer.AsMemory(count), _stop.Token);
                    count += result.Count;
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    Record($"← close {socket.CloseStatus} {socket.CloseStatusDescription}");
                    return;
                }

                string text = Encoding.UTF8.GetString(buffer, 0, count);
                if (text == "2")
                {
                    await SendAsync("3");
                    continue;
                }

                if (text.StartsWith("42[\"m\"", StringComparison.Ordinal))
                {
                    JsonElement argument = JsonDocument.Parse(text.AsMemory(2)).RootElement[1];
                    if (argument[0].ValueKind == JsonValueKind.String && argument[0].GetString() == "ot-doc")
                    {
                        string data = argument[2].GetBoolean() ? Gunzip(Convert.FromBase64String(argument[1].GetString()!)) : argument[1].GetRawText();
                        Record("← " + data);
                        Received.Add(JsonDocument.Parse(data).RootElement.Clone());
                        continue;
                    }
                }

                Record("← " + text);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is WebSocketException or JsonException or InvalidOperationException or ObjectDisposedException)
        {
            Record("← receive failed: " + ex.Message);
        }
    }

    private static string Gunzip(byte[] gzipped)
    {
        using var gzip = new GZipStream(new MemoryStream(gzipped), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _client.DisposeAsync();
        await _receiving;
        _stop.Dispose();
        _sendGate.Dispose();
    }
}
