using System.Diagnostics;
using System.Net.WebSockets;

namespace Realtime.LoadTest;

/// <summary>
/// One editor of one document over a plain <see cref="ClientWebSocket"/>, driven through a <see cref="DocumentWire"/>: the
/// same client cost for every system. It keeps no snapshot, only the document's version (the highest it has seen), which
/// is what its next op is written against; the server transforms the op against whatever it has not seen. One op in
/// flight at a time, one fetch or subscribe at a time.
/// </summary>
internal sealed class DocumentClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly DocumentWire _wire;
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private Task _receiveLoop = Task.CompletedTask;
    private long _version;
    private long _seq;
    private long _ackSeq;
    private TaskCompletionSource<long>? _ack;
    private TaskCompletionSource<DocumentMessage>? _reply;

    private DocumentClient(ClientWebSocket socket, DocumentWire wire, string document, string src)
    {
        _socket = socket;
        _wire = wire;
        Document = document;
        Src = src;
    }

    public string Document { get; }

    /// <summary>The connection's id, which the server puts on its ops as <c>src</c>.</summary>
    public string Src { get; }

    /// <summary>The document's version as far as this client knows: its next op is written against it.</summary>
    public long Version => Interlocked.Read(ref _version);

    public static async Task<DocumentClient> ConnectAsync(DocumentWire wire, int port, string document, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        string connectionId = Guid.NewGuid().ToString("N")[..20];
        string src;
        try
        {
            await socket.ConnectAsync(wire.Url(port, document, connectionId), cancellationToken);
            src = await wire.HandshakeAsync(socket, connectionId, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var client = new DocumentClient(socket, wire, document, src);
        client._receiveLoop = client.ReceiveLoopAsync();
        return client;
    }

    public long NextSeq() => Interlocked.Increment(ref _seq);

    /// <summary>Sends an op (or create) whose sequence number is <paramref name="seq"/>; completes with the ack's arrival (a <see cref="Stopwatch"/> timestamp).</summary>
    public async Task<long> SubmitAsync(byte[] frame, long seq)
    {
        var ack = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref _ackSeq, seq);
        Volatile.Write(ref _ack, ack);
        await SendAsync(frame);
        return await ack.Task;
    }

    /// <summary>Sends a fetch or subscribe; completes with its reply.</summary>
    public async Task<DocumentMessage> RequestAsync(byte[] frame)
    {
        var reply = new TaskCompletionSource<DocumentMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _reply, reply);
        await SendAsync(frame);
        return await reply.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        await _receiveLoop;
        _socket.Dispose();
        _sendGate.Dispose();
    }

    private async Task SendAsync(byte[] frame)
    {
        await _sendGate.WaitAsync();
        try
        {
            await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
        finally
        {
            _sendGate.Release();
        }
    }

    private void Received(DocumentMessage message)
    {
        long arrived = Stopwatch.GetTimestamp();
        if (message.Error is { } error)
        {
            var failure = new InvalidOperationException($"{_wire.Name} refused a request on {Document}: {error}");
            if (message.Action == DocumentMessageAction.Op)
            {
                Volatile.Read(ref _ack)?.TrySetException(failure);
            }
            else
            {
                Volatile.Read(ref _reply)?.TrySetException(failure);
            }

            return;
        }

        switch (message.Action)
        {
            case DocumentMessageAction.Op:
                if (message.Version is long v)
                {
                    Advance(v + 1); // an op (anyone's) or an ack applied at v: the document is at v + 1
                }

                // An ack is an op message without an op; the submitter's own op echoed back counts as its ack too (features doc §3.6).
                bool mine = message.Seq == Interlocked.Read(ref _ackSeq) && (!message.CarriesOp || message.Src == Src);
                if (mine)
                {
                    Volatile.Read(ref _ack)?.TrySetResult(arrived);
                }

                break;
            case DocumentMessageAction.Fetch or DocumentMessageAction.Subscribe:
                if (message.SnapshotVersion is long snapshot)
                {
                    Advance(snapshot);
                }

                Volatile.Read(ref _reply)?.TrySetResult(message);
                break;
        }
    }

    private void Advance(long version)
    {
        long known = Interlocked.Read(ref _version);
        while (version > known)
        {
            long seen = Interlocked.CompareExchange(ref _version, version, known);
            if (seen == known)
            {
                return;
            }

            known = seen;
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new Ref<byte[]>(new byte[16 * 1024]);
        try
        {
            while (true)
            {
                (int count, WebSocketMessageType type) = await WebSocketMessages.ReceiveAsync(_socket, buffer, CancellationToken.None);
                if (type == WebSocketMessageType.Close)
                {
                    Fail(new WebSocketException($"{_wire.Name} closed the connection to {Document} ({_socket.CloseStatus} {_socket.CloseStatusDescription})."));
                    return;
                }

                ReadOnlySpan<byte> message = buffer.Value.AsSpan(0, count);
                if (_wire.HeartbeatReply(message) is { } reply)
                {
                    _ = SendAsync(reply);
                }
                else if (_wire.Parse(message) is { } parsed)
                {
                    Received(parsed);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            Fail(ex); // closed or aborted
        }
    }

    private void Fail(Exception reason)
    {
        Volatile.Read(ref _ack)?.TrySetException(reason);
        Volatile.Read(ref _reply)?.TrySetException(reason);
    }
}
