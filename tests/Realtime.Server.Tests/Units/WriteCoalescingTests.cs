using System.Net.WebSockets;
using System.Text;
using Realtime.Server.Internal;

namespace Realtime.Server.Tests.Units;

/// <summary>
/// The upgraded stream's write gathering, under a real server-side WebSocket: a burst of frames reaches the transport as one
/// write, complete and in order, and nothing is held back once the burst ends.
/// </summary>
public class WriteCoalescingTests
{
    [Fact]
    public async Task Writes_go_straight_through_unless_coalescing_and_a_burst_becomes_one_write_in_order()
    {
        var transport = new CountingStream(new MemoryStream());
        var stream = new GracefulUpgradeFeature.UpgradedStream(transport);
        using WebSocket server = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });

        await SendAsync(server, "a");
        await SendAsync(server, "b");
        Assert.Equal(2, transport.Writes); // coalescing off: one write per frame, as without the wrapper

        stream.Coalesce = true;
        for (int i = 0; i < 10; i++)
        {
            await SendAsync(server, "burst" + i);
        }

        Assert.Equal(2, transport.Writes); // gathered, not written

        stream.Coalesce = false;
        await SendAsync(server, "last");
        Assert.Equal(3, transport.Writes); // the last frame of the burst writes them all at once

        string[] expected = ["a", "b", .. Enumerable.Range(0, 10).Select(i => "burst" + i), "last"];
        Assert.Equal(expected, await ReadAllAsync(transport.Written));
    }

    [Fact]
    public async Task A_burst_larger_than_the_gather_limit_is_written_in_bounded_pieces()
    {
        var transport = new CountingStream(new MemoryStream());
        var stream = new GracefulUpgradeFeature.UpgradedStream(transport);
        using WebSocket server = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });

        string payload = new('x', 1000);
        int frames = 3 * GracefulUpgradeFeature.UpgradedStream.GatherLimit / 1000;
        stream.Coalesce = true;
        for (int i = 0; i < frames; i++)
        {
            await SendAsync(server, i + payload);
        }

        Assert.InRange(transport.Writes, 2, 3); // written whenever the next frame would pass the limit
        Assert.All(transport.WriteSizes, size => Assert.True(size <= GracefulUpgradeFeature.UpgradedStream.GatherLimit, $"a write of {size} bytes"));

        // A frame larger than the limit is written as it is, after what was gathered.
        string large = new('y', 2 * GracefulUpgradeFeature.UpgradedStream.GatherLimit);
        await SendAsync(server, large);
        stream.Coalesce = false;
        await SendAsync(server, "end");

        string[] received = await ReadAllAsync(transport.Written);
        Assert.Equal([.. Enumerable.Range(0, frames).Select(i => i + payload), large, "end"], received);
    }

    [Fact]
    public async Task The_send_loop_gathers_the_frames_queued_behind_a_stuck_write_and_ends_each_burst_with_a_write()
    {
        await using var harness = new ServerHarness();
        HeldStream? held = null;
        InMemoryClient client = await harness.ConnectWelcomedAsync(serverTransport: t => new GracefulUpgradeFeature.UpgradedStream(held = new HeldStream(t)));

        // The transport stalls on the next write; 99 more frames queue behind it.
        held!.HoldNextWrite();
        client.Connection.Send("m0", "t");
        await held.Stalled.DefaultTimeout("the first frame's write to stall");
        for (int i = 1; i < 100; i++)
        {
            client.Connection.Send("m" + i, "t");
        }

        int before = held.Writes;
        held.Release();
        for (int i = 0; i < 100; i++)
        {
            Assert.Contains($"\"m{i}\"", await client.ReceiveTextAsync(), StringComparison.Ordinal);
        }

        // The stalled write, then the 99 frames behind it in one (about 4 KB, far below the gather limit).
        Assert.Equal(1, held.Writes - before);

        // Nothing is held back afterwards: a lone frame is written at once.
        client.Connection.Send("alone", "t");
        Assert.Contains("\"alone\"", await client.ReceiveTextAsync(), StringComparison.Ordinal);
    }

    private static Task SendAsync(WebSocket socket, string text)
        => socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

    /// <summary>Parses the server's frames as a client would.</summary>
    private static async Task<string[]> ReadAllAsync(byte[] written)
    {
        using WebSocket client = WebSocket.CreateFromStream(new MemoryStream(written), new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        var messages = new List<string>();
        byte[] buffer = new byte[64 * 1024];
        while (true)
        {
            int count = 0;
            ValueWebSocketReceiveResult result;
            try
            {
                do
                {
                    result = await client.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None);
                    count += result.Count;
                }
                while (!result.EndOfMessage);
            }
            catch (WebSocketException)
            {
                return [.. messages]; // the end of what was written
            }

            messages.Add(Encoding.UTF8.GetString(buffer, 0, count));
        }
    }

    /// <summary>A transport that counts its writes and keeps what was written.</summary>
    private sealed class CountingStream(MemoryStream inner) : Stream
    {
        public int Writes { get; private set; }

        public List<int> WriteSizes { get; } = [];

        public byte[] Written => inner.ToArray();

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writes++;
            WriteSizes.Add(buffer.Length);
            return inner.WriteAsync(buffer, cancellationToken);
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A transport whose next write can be held until released: a socket whose peer stopped reading, for a moment.</summary>
    private sealed class HeldStream(Stream inner) : Stream
    {
        private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _hold;
        private int _writes;

        public int Writes => Volatile.Read(ref _writes);

        public Task Stalled => _stalled.Task;

        public void HoldNextWrite() => Volatile.Write(ref _hold, 1);

        public void Release() => _released.TrySetResult();

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _writes);
            if (Interlocked.Exchange(ref _hold, 0) == 1)
            {
                _stalled.TrySetResult();
                await _released.Task.ConfigureAwait(false);
            }

            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
