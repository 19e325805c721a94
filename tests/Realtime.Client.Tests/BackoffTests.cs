using Realtime.Client.Internal;

namespace Realtime.Client.Tests;

public class BackoffTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(5);

    [Fact]
    public void Without_jitter_the_delay_doubles_from_the_first_and_is_capped()
    {
        double[] seconds = Enumerable.Range(0, 6).Select(n => Backoff.GetDelay(n, Second, Max, 0.5, random: 0.5).TotalSeconds).ToArray();
        Assert.Equal(new[] { 1.0, 2.0, 4.0, 5.0, 5.0, 5.0 }, seconds);
    }

    [Theory]
    [InlineData(0.0, 0.5)]
    [InlineData(0.25, 0.75)]
    [InlineData(0.75, 1.25)]
    public void Jitter_scales_the_capped_delay_by_plus_or_minus_the_factor(double random, double expectedScale)
    {
        Assert.Equal(expectedScale * 1000, Backoff.GetDelay(0, Second, Max, 0.5, random).TotalMilliseconds, precision: 6);
        Assert.Equal(expectedScale * 5000, Backoff.GetDelay(10, Second, Max, 0.5, random).TotalMilliseconds, precision: 6);
    }

    [Fact]
    public void A_factor_of_zero_gives_the_exact_sequence_and_huge_attempts_do_not_overflow()
    {
        Assert.Equal(4000, Backoff.GetDelay(2, Second, Max, 0, random: 0.99).TotalMilliseconds);
        Assert.Equal(5000, Backoff.GetDelay(int.MaxValue, Second, Max, 0, random: 0).TotalMilliseconds);
    }

    [Fact]
    public void Jittered_delays_stay_within_the_bounds_for_any_random_value()
    {
        var random = new Random(42);
        for (int n = 0; n < 20; n++)
        {
            double capped = Math.Min(1000 * Math.Pow(2, n), 5000);
            double ms = Backoff.GetDelay(n, Second, Max, 0.5, random.NextDouble()).TotalMilliseconds;
            Assert.InRange(ms, capped * 0.5, capped * 1.5);
        }
    }
}
