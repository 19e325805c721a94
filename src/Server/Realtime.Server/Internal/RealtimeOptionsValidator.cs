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
        if (options.MaxMessageSize < RealtimeDefaults.MinMaxMessageSize)
        {
            failures.Add($"Realtime:MaxMessageSize must be at least {RealtimeDefaults.MinMaxMessageSize} bytes (it is {options.MaxMessageSize}).");
        }

        if (options.MaxQueuedMessages < 1)
        {
            failures.Add($"Realtime:MaxQueuedMessages must be at least 1 (it is {options.MaxQueuedMessages}).");
        }

        if (options.JsonSerializerOptions is null)
        {
            failures.Add("Realtime:JsonSerializerOptions must not be null.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckDuration(List<string> failures, string name, TimeSpan value)
    {
        if (value < TimeSpan.FromMilliseconds(1) || value > MaxMilliseconds)
        {
            failures.Add($"Realtime:{name} must be between 1 ms and {int.MaxValue} ms (it is {value}).");
        }
    }
}
