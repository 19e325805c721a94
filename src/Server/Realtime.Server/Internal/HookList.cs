using Microsoft.Extensions.Logging;
using Realtime.Server.Diagnostics;

namespace Realtime.Server.Internal;

/// <summary>The hooks of one event: a copy-on-write array, so invoking takes no lock.</summary>
internal sealed class HookList<TContext>(string eventName)
{
    private readonly Lock _gate = new();
    private Func<TContext, ValueTask>[] _hooks = [];

    public void Add(Func<TContext, ValueTask> hook)
    {
        lock (_gate)
        {
            _hooks = [.. _hooks, hook];
        }
    }

    /// <summary>Runs every hook in registration order, each awaited. A hook that throws is logged and the others still run.</summary>
    public async ValueTask InvokeAsync(TContext context, ILogger logger, string? connectionId)
    {
        foreach (Func<TContext, ValueTask> hook in Volatile.Read(ref _hooks))
        {
            try
            {
                await hook(context).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                RealtimeLog.HookFailed(logger, eventName, connectionId, ex);
            }
        }
    }
}
