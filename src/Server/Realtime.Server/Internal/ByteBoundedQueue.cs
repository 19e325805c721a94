namespace Realtime.Server.Internal;

/// <summary>The one rule of the connection's outbound queue: bounded by its count and by bytes.</summary>
internal static class ByteBoundedQueue
{
    /// <summary>
    /// Writes an item within both bounds; one item larger than the byte bound still fits an empty queue. The bytes
    /// are counted before the write, so a consumer that takes the item at once never sees the count go negative.
    /// </summary>
    /// <returns><see langword="false"/> (nothing counted, nothing written) when either bound is reached.</returns>
    public static bool TryWrite<T>(SingleReaderQueue<T> writer, T item, int size, ref long queuedBytes, long maxBytes)
    {
        long queued = Interlocked.Add(ref queuedBytes, size);
        if ((queued > maxBytes && queued != size) || !writer.TryWrite(item))
        {
            Interlocked.Add(ref queuedBytes, -size);
            return false;
        }

        return true;
    }
}
