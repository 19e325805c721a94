using System.Diagnostics;
using System.Text.Json.Nodes;
using Realtime.Client;
using Realtime.TestSupport;

namespace Realtime.Server.PostgreSql.Tests;

/// <summary>Waits on C# <see cref="SharedDocument"/> editors.</summary>
internal static class EditorWaits
{
    /// <summary>Waits until every one of <paramref name="docs"/> is at <paramref name="version"/>, asserts they hold the same data, and
    /// returns it.</summary>
    public static async Task<JsonNode> WaitForAllAtAsync(IReadOnlyList<SharedDocument> docs, long version)
    {
        foreach (SharedDocument doc in docs)
        {
            await WaitForVersionAsync(doc, version);
        }

        JsonNode data = docs[0].Data!;
        Assert.All(docs, doc => Assert.True(JsonNode.DeepEquals(data, doc.Data), $"a client diverged: {doc.Data!.ToJsonString()}"));
        return data;
    }

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
