namespace Realtime.Client.Internal;

/// <summary>
/// A shared document's own ops that the server has not acknowledged (js-collaboration-features.md §3.5–3.6): at most one in flight,
/// the later ones queued in order, consecutive unsent ops composed into one, and all of them transformed over each remote op so
/// that they stay written against the document's latest version.
/// </summary>
/// <remarks>Not thread-safe: guarded by the <see cref="DocumentEngine"/>'s lock.</remarks>
internal sealed class DocumentOpQueue
{
    private readonly List<PendingOp> _queued = [];

    /// <summary>The op sent and not answered yet; none while disconnected (it is then back at the head of the queue).</summary>
    public PendingOp? InFlight { get; private set; }

    /// <summary>Whether no op is in flight or queued.</summary>
    public bool IsEmpty => InFlight is null && _queued.Count == 0;

    /// <summary>The op in flight, then the queued ones.</summary>
    public IEnumerable<PendingOp> Unacknowledged => InFlight is null ? _queued : _queued.Prepend(InFlight);

    /// <summary>
    /// Queues <paramref name="op"/> for <paramref name="done"/>. An OT op is composed into the last queued op instead when that one is
    /// an OT op never sent (the server cannot have it) and <paramref name="type"/> can compose the two.
    /// </summary>
    /// <returns>Whether <paramref name="op"/> was queued on its own (the head may then be sent); <see langword="false"/> when composed.</returns>
    public bool Add(PendingOp op, TaskCompletionSource done, IOtType? type)
    {
        PendingOp? last = _queued.Count > 0 ? _queued[^1] : null;
        if (op.Kind == DocumentOpKind.Op && last is { Kind: DocumentOpKind.Op, Sent: false } && type is not null)
        {
            try
            {
                last.Op = type.Compose(last.Op!, op.Op!);
                last.Waiters.Add(done);
                return false;
            }
            catch (Exception ex) when (ex is OtException or NotSupportedException)
            {
                // Not composable: it goes on its own.
            }
        }

        op.Waiters.Add(done);
        _queued.Add(op);
        return true;
    }

    /// <summary>Puts the head of the queue in flight, unless an op is in flight already.</summary>
    /// <returns>The op now in flight; <see langword="null"/> when one was already, or none is queued.</returns>
    public PendingOp? StartNext()
    {
        if (InFlight is not null || _queued.Count == 0)
        {
            return null;
        }

        InFlight = _queued[0];
        _queued.RemoveAt(0);
        return InFlight;
    }

    /// <summary>The connection dropped: the op in flight goes back to the head of the queue, to be sent again with its <c>src</c> and <c>seq</c>.</summary>
    public void Requeue()
    {
        if (InFlight is not null)
        {
            _queued.Insert(0, InFlight);
            InFlight = null;
        }
    }

    /// <summary>The op in flight was answered (acknowledged, or refused and rolled back): it leaves the queue.</summary>
    public void RemoveInFlight() => InFlight = null;

    /// <summary>Empties the queue.</summary>
    /// <returns>The ops it held: the one in flight, then the queued ones.</returns>
    public List<PendingOp> Clear()
    {
        List<PendingOp> dropped = [.. Unacknowledged];
        InFlight = null;
        _queued.Clear();
        return dropped;
    }

    /// <summary>
    /// Transforms every unacknowledged op, in order, against <paramref name="remote"/> (written against the same version as the first
    /// of them): each becomes itself after the remote op, and <paramref name="remote"/> becomes the remote op after all of them.
    /// </summary>
    /// <returns>Why an op could not be transformed (those before it are transformed already); <see langword="null"/> when done.</returns>
    public SharedDocumentException? TransformAgainst(IOtType? type, PendingOp remote)
    {
        foreach (PendingOp local in Unacknowledged)
        {
            if (DocumentTransform.Against(type, local, remote) is { } failed)
            {
                return failed;
            }
        }

        return null;
    }
}
