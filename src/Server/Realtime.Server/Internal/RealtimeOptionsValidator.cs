using Microsoft.Extensions.Options;

namespace Realtime.Server.Internal;

/// <summary>Validates <see cref="RealtimeOptions"/> at start-up, with messages that name the setting.</summary>
internal sealed class RealtimeOptionsValidator : IValidateOptions<RealtimeOptions>
{
    private static readonly TimeSpan MaxMilliseconds = TimeSpan.FromMilliseconds(int.MaxValue);

    public ValidateOptionsResult Validate(string? name, RealtimeOptions options)
    {
        var failures = new List<string>();
        CheckDuration(failures, nameof(options.PingInterval), options.PingInterval);
        CheckDuration(failures, nameof(options.PingTimeout), options.PingTimeout);
        CheckDuration(failures, nameof(options.HandshakeTimeout), options.HandshakeTimeout);
        CheckDuration(failures, nameof(options.CloseTimeout), options.CloseTimeout);
        CheckDuration(failures, nameof(options.MaxThrottleTime), options.MaxThrottleTime);
        if (options.MaxMessageSize < RealtimeDefaults.MinMaxMessageSize)
        {
            failures.Add($"Realtime:MaxMessageSize must be at least {RealtimeDefaults.MinMaxMessageSize} bytes (it is {options.MaxMessageSize}).");
        }

        AtLeast(failures, nameof(options.MaxQueuedMessages), options.MaxQueuedMessages, 1);
        if (options.MaxQueuedBytes < RealtimeDefaults.MinMaxMessageSize)
        {
            failures.Add($"Realtime:MaxQueuedBytes must be at least {RealtimeDefaults.MinMaxMessageSize} bytes (it is {options.MaxQueuedBytes}).");
        }

        AtLeast(failures, nameof(options.MaxConnections), options.MaxConnections, 1);
        AtLeast(failures, nameof(options.MaxConnectionsPerIpAddress), options.MaxConnectionsPerIpAddress, 1);
        AtLeast(failures, nameof(options.MaxMessagesPerSecond), options.MaxMessagesPerSecond, 0);
        AtLeast(failures, nameof(options.MessageBurst), options.MessageBurst, 1);
        foreach (string origin in options.AllowedOrigins)
        {
            if (!Uri.TryCreate(origin, UriKind.Absolute, out Uri? uri) || uri.PathAndQuery != "/" || origin.EndsWith('/'))
            {
                failures.Add($"Realtime:AllowedOrigins: '{origin}' is not an origin (scheme://host[:port], no path), such as https://app.example.com.");
            }
        }

        RecoveryOptions recovery = options.Recovery;
        if (recovery.MaxMessages is < 1 or > 1_000_000)
        {
            failures.Add($"Realtime:Recovery:MaxMessages must be between 1 and 1000000 (it is {recovery.MaxMessages}).");
        }

        if (recovery.MaxAge < TimeSpan.FromSeconds(1) || recovery.MaxAge > TimeSpan.FromDays(1))
        {
            failures.Add($"Realtime:Recovery:MaxAge must be between 1 second and 1 day (it is {recovery.MaxAge}).");
        }

        foreach (string? pattern in recovery.Rooms)
        {
            if (string.IsNullOrEmpty(pattern))
            {
                failures.Add("Realtime:Recovery:Rooms must not hold an empty pattern (use \"*\" for every room, or leave it empty).");
            }
        }

        if (options.JsonSerializerOptions is null)
        {
            failures.Add("Realtime:JsonSerializerOptions must not be null.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void AtLeast(List<string> failures, string name, int value, int minimum)
    {
        if (value < minimum)
        {
            failures.Add($"Realtime:{name} must be at least {minimum} (it is {value}).");
        }
    }

    private static void CheckDuration(List<string> failures, string name, TimeSpan value)
    {
        if (value < TimeSpan.FromMilliseconds(1) || value > MaxMilliseconds)
        {
            failures.Add($"Realtime:{name} must be between 1 ms and {int.MaxValue} ms (it is {value}).");
        }
    }
}
