using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Realtime.Server.Internal;

/// <summary>
/// Wraps the HTTP/1.1 upgrade so that a WebSocket that fails on a bad frame can still deliver its close frame.
/// The WebSocket sends its own close (1007 for invalid UTF-8), aborts, and disposes its stream; if the request
/// then ends at once, Kestrel ends the unfinished upgraded connection with a reset that can overtake that close
/// frame. Here the WebSocket's stream is a wrapper whose disposal only cancels pending reads, so the raw stream
/// stays usable and <see cref="WaitForPeerAsync"/> can hold the request until the peer has answered. The wrapper also
/// gathers the writes of a burst of frames into one (<see cref="IWriteCoalescing"/>).
/// </summary>
internal sealed class GracefulUpgradeFeature(IHttpUpgradeFeature inner) : IHttpUpgradeFeature
{
    private IHttpUpgradeFeature? _inner = inner; // dropped once upgraded: the upgraded stream must not keep the request alive

    public bool IsUpgradableRequest => _inner?.IsUpgradableRequest ?? false;

    /// <summary>Installs the wrapper on this request, when it can be upgraded over HTTP/1.1.</summary>
    public static void Install(HttpContext context)
    {
        if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade and not GracefulUpgradeFeature)
        {
            context.Features.Set<IHttpUpgradeFeature>(new GracefulUpgradeFeature(upgrade));
        }
    }

    private Stream? _raw;
    private UpgradedStream? _upgraded;

    public async Task<Stream> UpgradeAsync()
    {
        IHttpUpgradeFeature upgrade = Interlocked.Exchange(ref _inner, null) ?? throw new InvalidOperationException("The request was upgraded already.");
        _raw = await upgrade.UpgradeAsync().ConfigureAwait(false);
        return _upgraded = new UpgradedStream(_raw);
    }

    /// <summary>This request's wrapper, when it was installed (HTTP/1.1); otherwise <see langword="null"/>.</summary>
    public static GracefulUpgradeFeature? Of(HttpContext context) => context.Features.Get<IHttpUpgradeFeature>() as GracefulUpgradeFeature;

    /// <summary>The upgraded stream of this request, when it went through the wrapper (HTTP/1.1); otherwise <see langword="null"/>.</summary>
    public static IWriteCoalescing? WritesOf(HttpContext context) => Of(context)?._upgraded;

    /// <summary>
    /// After the WebSocket aborted itself: waits until the peer sends anything (its close frame) or closes, or until
    /// <paramref name="timeout"/>; either way the peer has had the chance to read what was sent before.
    /// </summary>
    public async Task WaitForPeerAsync(TimeSpan timeout, TimeProvider time)
    {
        if (_raw is not { } raw)
        {
            return;
        }

        using var cts = new CancellationTokenSource(timeout, time);
        try
        {
            byte[] scratch = new byte[256];
            await raw.ReadAsync(scratch, cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // Timed out, or the connection is already gone: nothing more to wait for.
        }
    }

    /// <summary>
    /// The upgraded stream. Writes are serialized by the WebSocket (one at a time), so the gathering state needs no lock; a write
    /// that finds nothing gathered and coalescing off goes straight through, as without the wrapper.
    /// </summary>
    internal sealed class UpgradedStream(Stream inner) : Stream, IWriteCoalescing
    {
        /// <summary>At most this much is gathered before it is written anyway (a bound on both memory and delay).</summary>
        internal const int GatherLimit = 16 * 1024;

        // Disposal stops pending reads: over the dense listener's pipes by cancelling the pending pipe read (no token, so an idle
        // read registers nothing), over any other stream through this token source.
        private readonly Dense.DuplexPipeStream? _pipes = inner as Dense.DuplexPipeStream;
        private readonly CancellationTokenSource? _disposed = inner is Dense.DuplexPipeStream ? null : new();
        private volatile bool _isDisposed;
        private volatile bool _coalesce;
        private byte[]? _gathered;
        private int _count;

        public bool Coalesce
        {
            get => _coalesce;
            set => _coalesce = value;
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => cancellationToken.CanBeCanceled
                ? ReadLinkedAsync(buffer, cancellationToken)
                : inner.ReadAsync(buffer, _disposed?.Token ?? default); // the WebSocket's reads: no state machine of our own on the hot path

        private async ValueTask<int> ReadLinkedAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposed?.Token ?? default);
            return await inner.ReadAsync(buffer, linked.Token).ConfigureAwait(false);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(_isDisposed, this);
            if (_count == 0 && !_coalesce)
            {
                return inner.WriteAsync(buffer, cancellationToken);
            }

            if (_count + buffer.Length > GatherLimit)
            {
                return WriteGatheredThenAsync(buffer, cancellationToken);
            }

            Gather(buffer.Span);
            return _coalesce ? default : WriteGatheredAsync(cancellationToken);
        }

        private void Gather(ReadOnlySpan<byte> bytes)
        {
            _gathered ??= ArrayPool<byte>.Shared.Rent(GatherLimit);
            bytes.CopyTo(_gathered.AsSpan(_count));
            _count += bytes.Length;
        }

        /// <summary>Writes what is gathered and gives the buffer back (an idle connection holds none).</summary>
        private async ValueTask WriteGatheredAsync(CancellationToken cancellationToken)
        {
            byte[] gathered = _gathered!;
            int count = _count;
            _gathered = null;
            _count = 0;
            try
            {
                await inner.WriteAsync(gathered.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(gathered);
            }
        }

        /// <summary>A write that does not fit behind what is gathered: the gathered bytes first, then this one, gathered or written.</summary>
        private async ValueTask WriteGatheredThenAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
        {
            if (_count > 0)
            {
                await WriteGatheredAsync(cancellationToken).ConfigureAwait(false);
            }

            if (_coalesce && buffer.Length <= GatherLimit)
            {
                Gather(buffer.Span);
            }
            else
            {
                await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        /// <summary>The WebSocket flushes after every frame: while coalescing that is a no-op (the burst's last write flushes).</summary>
        public override Task FlushAsync(CancellationToken cancellationToken)
            => _coalesce ? Task.CompletedTask : _count > 0 ? FlushGatheredAsync(cancellationToken) : inner.FlushAsync(cancellationToken);

        private async Task FlushGatheredAsync(CancellationToken cancellationToken)
        {
            await WriteGatheredAsync(cancellationToken).ConfigureAwait(false);
            await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Synchronous reads are not supported.");

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Synchronous writes are not supported.");

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_isDisposed)
            {
                // Only stop pending reads; Kestrel's streams end with the request. Anything still gathered is dropped with the
                // socket (its buffer is left to the collector: a write may still hold it).
                _isDisposed = true;
                _disposed?.Cancel();
                _pipes?.CancelPendingRead();
            }

            base.Dispose(disposing);
        }
    }
}
