using System.Text.Json.Nodes;

namespace Realtime.Client.Internal;

/// <summary>What a <see cref="DocumentEngine"/> needs from around it: a way to send, a way to raise events, and seq numbers.</summary>
/// <remarks>The engine and its parts call these under the engine's lock: none of them may block or run user code inline.</remarks>
internal interface IDocumentHost
{
    /// <summary>Queues a request on the connection.</summary>
    /// <returns><see langword="false"/> when it could not be queued (the engine then sends it again after the next connection).</returns>
    bool TrySend(JsonObject request);

    /// <summary>Queues an event for the document's handlers, after every event queued before.</summary>
    void Raise<TArgs>(SharedDocumentEvent<TArgs> evt, TArgs args);

    /// <summary>The next <c>seq</c> for an op (from 1; unique on the connection, across its reconnections).</summary>
    long NextSeq();
}
