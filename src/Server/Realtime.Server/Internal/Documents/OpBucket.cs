namespace Realtime.Server.Internal.Documents;

/// <summary>
/// One connection's allowance of submits (<see cref="DocumentOptions.MaxOpsPerSecond"/>): a bucket of that many, refilled continuously.
/// Used by the connection's own message handling only, one message at a time, so it needs no lock.
/// </summary>
internal sealed class OpBucket
{
    private double _tokens = double.NaN;
    private long _last;

    /// <summary>Takes one submit from the allowance.</summary>
    /// <returns><see langword="false"/> when none is left (the submit is refused).</returns>
    public bool TryTake(int perSecond, TimeProvider time)
    {
        long now = time.GetTimestamp();
        _tokens = double.IsNaN(_tokens) ? perSecond : Math.Min(perSecond, _tokens + (time.GetElapsedTime(_last, now).TotalSeconds * perSecond));
        _last = now;
        if (_tokens < 1)
        {
            return false;
        }

        _tokens--;
        return true;
    }
}
