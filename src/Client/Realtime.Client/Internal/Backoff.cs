namespace Realtime.Client.Internal;

/// <summary>The reconnection backoff of api.md, as one pure function (the randomness is an argument).</summary>
internal static class Backoff
{
    /// <summary>
    /// The delay before reconnection attempt <paramref name="attempt"/> (from 0):
    /// <c>min(delay·2ⁿ, max)</c>, then jittered by ±<paramref name="randomizationFactor"/>.
    /// </summary>
    /// <param name="attempt">The attempt, from 0.</param>
    /// <param name="delay">The first delay.</param>
    /// <param name="max">The cap before jitter.</param>
    /// <param name="randomizationFactor">The jitter factor f: the result lies in [d·(1 − f), d·(1 + f)].</param>
    /// <param name="random">A uniform random number in [0, 1).</param>
    public static TimeSpan GetDelay(int attempt, TimeSpan delay, TimeSpan max, double randomizationFactor, double random)
    {
        double capped = Math.Min(delay.TotalMilliseconds * Math.Pow(2, Math.Clamp(attempt, 0, 62)), max.TotalMilliseconds);
        double factor = Math.Clamp(randomizationFactor, 0, 1);
        double jittered = capped * (1 + (factor * ((2 * random) - 1)));
        return TimeSpan.FromMilliseconds(Math.Max(0, jittered));
    }
}
