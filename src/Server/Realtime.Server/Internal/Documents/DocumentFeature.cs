using Microsoft.Extensions.DependencyInjection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Realtime.Server.Internal.Documents;

/// <summary>
/// Shared documents on the wire (docs/documents.md): message type <c>ot-doc</c>, one document per room (its id is the room's id). Fetch,
/// history, subscribe, unsubscribe and submit as the original framework's document feature answers them, on every endpoint and protocol.
/// A document's subscribers are a channel of its room, so a committed operation is serialized once and reaches them on every node.
/// </summary>
internal sealed class DocumentFeature : RealtimeFeature
{
    /// <summary>The room's subscribed connections.</summary>
    public const string Channel = "ot-doc-subscribed";

    private readonly ConditionalWeakTable<ServerConnection, OpBucket> _buckets = [];
    private DocumentEngine? _engine;
    private object? _engineLock;

    public DocumentFeature(DocumentOptions options)
        : base("ot-doc", [DocumentWire.MessageType])
    {
        Options = options;
    }

    public DocumentOptions Options { get; }

    /// <summary>The pipeline; built on first use, when the server (its logger and services) is known. Its store is
    /// <see cref="DocumentOptions.Store"/>, else the one registered in the application's services, else a new in-memory one.</summary>
    public DocumentEngine Engine => LazyInitializer.EnsureInitialized(ref _engine, ref _engineLock, () => new DocumentEngine(
        Options, Options.Store ?? Server.Services?.GetService<DocumentStore>() ?? new InMemoryDocumentStore(), Server.Logger,
        (room, message, except) => Broadcast(room, Channel, message, except), Server.Time)); // one engine (and store) even when first used at once

    /// <summary>The server-side API over this feature.</summary>
    public DocumentService Service => field ??= new DocumentService(this);

    protected override async ValueTask OnMessageAsync(ServerConnection connection, Message message, CancellationToken cancellationToken)
    {
        if (message.IsBinary || message.Data.ValueKind != JsonValueKind.Object)
        {
            DocumentLog.NotAnObject(Server.Logger, connection.Id);
            connection.Close(); // as the original: the client is told the server disconnected it, and does not reconnect
            return;
        }

        JsonElement request = message.Data;
        int action = request.TryGetProperty("a", out JsonElement a) && a.ValueKind == JsonValueKind.Number && a.TryGetInt32(out int value) ? value : -1;
        try
        {
            await DocumentMiddlewareRunner.RunAsync(Options, DocumentAction.Receive, connection.RoomId, connection, request, Engine.Logger).ConfigureAwait(false);
            switch (action)
            {
                case DocumentWire.Fetch:
                    await FetchAsync(connection, request, subscribe: false, cancellationToken).ConfigureAwait(false);
                    break;
                case DocumentWire.Subscribe:
                    await FetchAsync(connection, request, subscribe: true, cancellationToken).ConfigureAwait(false);
                    break;
                case DocumentWire.History:
                    await HistoryAsync(connection, request, cancellationToken).ConfigureAwait(false);
                    break;
                case DocumentWire.Unsubscribe:
                    LeaveChannel(connection, Channel); // no reply
                    break;
                case DocumentWire.Op:
                    await SubmitAsync(connection, request, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    throw new DocumentException(DocumentErrorCodes.InvalidMessage, "Invalid or unknown message");
            }
        }
        catch (DocumentException ex)
        {
            DocumentLog.RequestRefused(Engine.Logger, connection.RoomId, action, connection.Id, ex.Code);
            Send(connection, DocumentWire.Error(request, ex.Code, ex.Message));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            DocumentLog.RequestFailed(Engine.Logger, connection.RoomId, action, ex);
            Send(connection, DocumentWire.Error(request, DocumentErrorCodes.Unknown, "Internal server error"));
        }
    }

    protected override void OnRoomEnded(string roomId) => _engine?.RoomEnded(roomId);

    /// <summary>A broadcast of a server-side submit: every subscriber.</summary>
    internal void BroadcastToSubscribers(string documentId, Message message) => Broadcast(documentId, Channel, message, null);

    private async ValueTask FetchAsync(ServerConnection connection, JsonElement request, bool subscribe, CancellationToken cancellationToken)
    {
        long? since = null;
        if (request.TryGetProperty("v", out JsonElement v) && v.ValueKind != JsonValueKind.Null)
        {
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long version) || version < 0)
            {
                throw new DocumentException(DocumentErrorCodes.InvalidMessage, "Invalid version");
            }

            since = version;
        }

        int action = subscribe ? DocumentWire.Subscribe : DocumentWire.Fetch;
        if (!subscribe)
        {
            await SendReplyAsync(connection, request, await ReadAsync(connection, request, since, action, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
            return;
        }

        // Subscribers get each committed op once it is in: ops committed while the reply is read are held and follow it.
        await JoinChannelAsync(connection, Channel, async ct => await ReadAsync(connection, request, since, action, ct).ConfigureAwait(false) is { } reply
            ? await ReplyMiddlewareAsync(connection, request, reply).ConfigureAwait(false)
            : null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A fetch's or subscribe's answer: the snapshot, or (with a version) the ops since then, sent first, and an empty reply.</summary>
    private async ValueTask<Message> ReadAsync(ServerConnection connection, JsonElement request, long? since, int action, CancellationToken cancellationToken)
    {
        string id = connection.RoomId;
        if (since is not { } from)
        {
            SnapshotRead read = await Engine.ReadSnapshotAsync(id, connection, request, cancellationToken).ConfigureAwait(false);
            return DocumentWire.SnapshotReply(action, null, id, read.Version, read.Type, read.Data);
        }

        foreach (DocumentOperation op in await Engine.ReadOperationsAsync(id, connection, request, from, null, cancellationToken).ConfigureAwait(false))
        {
            Send(connection, DocumentWire.OpMessage(op));
        }

        return DocumentWire.Empty(action);
    }

    private async ValueTask HistoryAsync(ServerConnection connection, JsonElement request, CancellationToken cancellationToken)
    {
        if (!request.TryGetProperty("v", out JsonElement v) || v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long version) || version < 0)
        {
            throw new DocumentException(DocumentErrorCodes.InvalidMessage, "Invalid fetch history snapshot message");
        }

        JsonElement? id = request.TryGetProperty("id", out JsonElement requestId) ? requestId : null;
        SnapshotRead read = await Engine.ReadHistoryAsync(connection.RoomId, connection, request, version, cancellationToken).ConfigureAwait(false);
        await SendReplyAsync(connection, request, DocumentWire.SnapshotReply(DocumentWire.History, id, connection.RoomId, read.Version, read.Type, read.Data))
            .ConfigureAwait(false);
    }

    private async ValueTask SubmitAsync(ServerConnection connection, JsonElement request, CancellationToken cancellationToken)
    {
        SubmitRequest submit = SubmitRequest.Parse(request, connection.Id, Options.Types);
        if (Options.MaxOpsPerSecond > 0 && !_buckets.GetValue(connection, _ => new OpBucket()).TryTake(Options.MaxOpsPerSecond, Server.Time))
        {
            throw new DocumentException(DocumentErrorCodes.Unknown,
                $"Too many ops: more than {Options.MaxOpsPerSecond} per second from this connection (DocumentOptions.MaxOpsPerSecond)");
        }

        // The submitter gets what its op was transformed against, even when it had them as broadcasts, then its ack; queued under the
        // document's gate, so no later op's broadcast overtakes its ack.
        await Engine.SubmitAsync(connection.RoomId, connection, submit, async result =>
        {
            if (result.TransformedAgainst.Count > 0)
            {
                await Engine.CheckOperationsAsync(connection.RoomId, connection, request, [.. result.TransformedAgainst.Select(op => op.Operation)]).ConfigureAwait(false);
            }

            foreach (CommittedOp op in result.TransformedAgainst)
            {
                Send(connection, op.Wire); // serialized once, shared with the broadcast
            }

            await SendReplyAsync(connection, request, DocumentWire.Ack(result.Source, result.Sequence, result.Version)).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask SendReplyAsync(ServerConnection connection, JsonElement request, Message reply)
        => Send(connection, await ReplyMiddlewareAsync(connection, request, reply).ConfigureAwait(false));

    private async ValueTask<Message> ReplyMiddlewareAsync(ServerConnection connection, JsonElement request, Message reply)
    {
        if (!DocumentMiddlewareRunner.Has(Options, DocumentAction.Reply))
        {
            return reply;
        }

        var context = new DocumentContext(DocumentAction.Reply, connection.RoomId, connection, request) { Reply = JsonNode.Parse(reply.DataUtf8) as JsonObject };
        await DocumentMiddlewareRunner.RunAsync(Options, context, Engine.Logger).ConfigureAwait(false);
        return context.Reply is { } changed ? DocumentWire.FromNode(changed) : reply;
    }
}
