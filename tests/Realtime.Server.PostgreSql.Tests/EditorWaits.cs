using System.Diagnostics;
using Realtime.Client;
using Realtime.TestSupport;

namespace Realtime.Server.PostgreSql.Tests;

/// <summary>Waits on C# <see cref="SharedDocument"/> editors.</summary>
internal static class EditorWaits
{
    /// <summary>Waits until <paramref name="doc"/> has applied every op up to <paramref name="version"/> and has none of its own pending.</summary>
    public static async Task WaitForVersionAsync(SharedDocument doc, long version)
    {
        using var changed = new SemaphoreSlim(0);
        using IDisposable subscription = doc.On(SharedDocumentEvents.Op, _ => changed.Release());
        var clock = Stopwatch.StartNew();
        while (doc.Version < version || doc.HasPendingOps)
        {
            Assert.True(clock.Elapsed < TaskTimeoutExtensions.DefaultTimeoutSpan, $"a client stayed at version {doc.Version} (expected {version}).");

            // The op event is awaited; the cap covers an ack, which raises no op event.
            await changed.WaitAsync(TimeSpan.FromMilliseconds(50)); // sleep-ok: a cap on awaiting the op event, see above
        }
    }
}
