namespace Realtime.LoadTest;

/// <summary>
/// A fixed-rate publisher and the delivery latencies it produces: broadcasts go out one per tick, and every member records the age
/// of each broadcast sent once the measured window began.
/// </summary>
internal sealed class FixedRate(int members)
{
    private readonly List<long>[] _samples = [.. Enumerable.Range(0, members).Select(_ => new List<long>(4096))];
    private long _firstMeasured = long.MaxValue;

    /// <summary>Records a delivery to <paramref name="member"/> (on its receive loop: one writer per list).</summary>
    public void Arrived(int member, Payload payload)
    {
        if (payload.Sequence >= Volatile.Read(ref _firstMeasured))
        {
            _samples[member].Add(payload.Age.Ticks);
        }
    }

    /// <summary>Sends broadcast 0, 1, … at <paramref name="rate"/> per second until <paramref name="over"/>; returns how many were sent.</summary>
    public async Task<long> PublishAsync(int rate, Func<bool> measuring, Func<bool> over, Func<long, Task> send)
    {
        long sent = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / rate));
        for (long seq = 0; !over() && await timer.WaitForNextTickAsync(); seq++)
        {
            if (measuring() && _firstMeasured == long.MaxValue)
            {
                Volatile.Write(ref _firstMeasured, seq);
            }

            await send(seq);
            sent++;
        }

        return sent;
    }

    /// <summary>The latency at <paramref name="quantile"/>, in µs, over every member's measured deliveries.</summary>
    public Func<double, double> Percentiles()
    {
        long[] all = [.. _samples.SelectMany(s => s).Order()];
        return quantile => all.Length == 0 ? double.NaN : all[(int)(quantile * (all.Length - 1))] / 10.0;
    }
}
