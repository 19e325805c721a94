using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Realtime.Server.Internal.Recovery;

/// <summary>
/// Resume tokens (docs/protocol.md §3.1): <c>base64url(payload || HMAC-SHA256(key, "realtime.resume.v2\n" + roomId + "\n" + identity +
/// "\n" + payload)[0..16])</c>, where the payload is the connection's id (20 ASCII characters), then its <see cref="ResumeGrant"/>: the
/// epoch's length (one byte) and UTF-8, the start position's sequence and the own tail's two bounds (8 bytes each, big-endian). A
/// token names the connection it resumes, is bound to its room and identity, and says from where its holder may be replayed to
/// (no position before its connection's start, so a new member cannot read the room's past through a resume); the key is the
/// backplane's (<see cref="RealtimeBackplane.GetResumeKeyAsync"/>), the same on every node, read once per server. Single use is
/// the backplane's claim, not the token's.
/// </summary>
internal sealed class ResumeTokens(RealtimeBackplane backplane)
{
    private const int MacLength = 16;
    private const int MaxEpochBytes = 64;
    private const int MaxTokenBytes = ConnectionId.Length + 1 + MaxEpochBytes + 24 + MacLength;
    private static readonly byte[] Label = "realtime.resume.v2\n"u8.ToArray();
    private static readonly System.Buffers.SearchValues<char> TokenAlphabet = System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    private Task<byte[]>? _key;

    /// <summary>The key, read from the backplane once (a failed read is tried again by the next caller).</summary>
    /// <exception cref="Exception">The backplane failed.</exception>
    public async ValueTask<byte[]> KeyAsync()
    {
        Task<byte[]> key = Volatile.Read(ref _key) ?? Interlocked.CompareExchange(ref _key, LoadAsync(), null) ?? _key!;
        try
        {
            return await key.ConfigureAwait(false);
        }
        catch
        {
            _ = Interlocked.CompareExchange(ref _key, null, key);
            throw;
        }
    }

    /// <summary>The token of a connection, or <see langword="null"/> when its grant's epoch is too long to carry (over 64 bytes of UTF-8).</summary>
    public static string? Issue(ReadOnlySpan<byte> key, string connectionId, string roomId, string identity, ResumeGrant grant)
    {
        int epochBytes = Encoding.UTF8.GetByteCount(grant.Start.Epoch);
        if (connectionId.Length != ConnectionId.Length || !Ascii.IsValid(connectionId))
        {
            throw new ArgumentException("A connection id is 20 ASCII characters.", nameof(connectionId));
        }

        if (epochBytes > MaxEpochBytes)
        {
            return null;
        }

        int payload = ConnectionId.Length + 1 + epochBytes + 24;
        Span<byte> token = stackalloc byte[payload + MacLength];
        Encoding.ASCII.GetBytes(connectionId, token);
        token[ConnectionId.Length] = (byte)epochBytes;
        int at = ConnectionId.Length + 1;
        at += Encoding.UTF8.GetBytes(grant.Start.Epoch, token[at..]);
        BinaryPrimitives.WriteInt64BigEndian(token[at..], grant.Start.Sequence);
        BinaryPrimitives.WriteInt64BigEndian(token[(at + 8)..], grant.OwnFrom);
        BinaryPrimitives.WriteInt64BigEndian(token[(at + 16)..], grant.OwnThrough);
        Sign(key, roomId, identity, token[..payload], token[payload..]);
        return Base64Url.EncodeToString(token);
    }

    /// <summary>Checks a token offered for <paramref name="roomId"/> by a connection of <paramref name="identity"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="token">What the client offered.</param>
    /// <param name="roomId">The room it joins now.</param>
    /// <param name="identity">Its identity now.</param>
    /// <param name="connectionId">The connection the token names, when it is genuine.</param>
    /// <param name="grant">What the token allows, when it is genuine.</param>
    /// <returns>Whether the token was issued with this key to a connection of that room and identity.</returns>
    public static bool TryRead(ReadOnlySpan<byte> key, string token, string roomId, string identity, out string connectionId, out ResumeGrant grant)
    {
        connectionId = "";
        grant = default;
        Span<byte> bytes = stackalloc byte[MaxTokenBytes + 3];
        if (token.Length > Base64Url.GetEncodedLength(MaxTokenBytes) || token.AsSpan().ContainsAnyExcept(TokenAlphabet)
            || !Base64Url.TryDecodeFromChars(token, bytes, out int written) || written < ConnectionId.Length + 1 + 24 + MacLength)
        {
            return false;
        }

        int epochBytes = bytes[ConnectionId.Length];
        int payload = ConnectionId.Length + 1 + epochBytes + 24;
        if (epochBytes > MaxEpochBytes || written != payload + MacLength)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[MacLength];
        Sign(key, roomId, identity, bytes[..payload], expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, bytes.Slice(payload, MacLength)))
        {
            return false;
        }

        // Genuine: what follows was written by Issue.
        connectionId = Encoding.ASCII.GetString(bytes[..ConnectionId.Length]);
        int at = ConnectionId.Length + 1;
        string epoch = Encoding.UTF8.GetString(bytes.Slice(at, epochBytes));
        at += epochBytes;
        grant = new ResumeGrant(new RoomPosition(epoch, BinaryPrimitives.ReadInt64BigEndian(bytes[at..])),
                                BinaryPrimitives.ReadInt64BigEndian(bytes[(at + 8)..]), BinaryPrimitives.ReadInt64BigEndian(bytes[(at + 16)..]));
        return true;
    }

    private static void Sign(ReadOnlySpan<byte> key, string roomId, string identity, ReadOnlySpan<byte> payload, Span<byte> mac)
    {
        int length = Label.Length + Encoding.UTF8.GetByteCount(roomId) + Encoding.UTF8.GetByteCount(identity) + 2 + payload.Length;
        byte[] message = new byte[length];
        int at = 0;
        Label.CopyTo(message, 0);
        at += Label.Length;
        at += Encoding.UTF8.GetBytes(roomId, message.AsSpan(at));
        message[at++] = (byte)'\n';
        at += Encoding.UTF8.GetBytes(identity, message.AsSpan(at));
        message[at++] = (byte)'\n';
        payload.CopyTo(message.AsSpan(at));
        Span<byte> hash = stackalloc byte[32];
        HMACSHA256.HashData(key, message, hash);
        hash[..MacLength].CopyTo(mac);
    }

    private async Task<byte[]> LoadAsync()
    {
        ReadOnlyMemory<byte> key = await backplane.GetResumeKeyAsync(CancellationToken.None).ConfigureAwait(false);
        return key.Length >= 32 ? key.ToArray() : throw new InvalidOperationException($"{backplane.GetType().Name}.GetResumeKeyAsync returned {key.Length} bytes; a resume key has at least 32.");
    }
}

/// <summary>
/// What a resume token allows its holder: a replay from no earlier than <see cref="Start"/> (the position its connection received
/// from: its <c>welcome</c>'s; an epoch <c>""</c> at 0 when the room had never broadcast), skipping the broadcasts after
/// <see cref="OwnFrom"/> through <see cref="OwnThrough"/> in that epoch: the tail of its replay that it never received because it
/// sent them itself (or they were a channel's), so that a second resume does not give a client its own broadcasts.
/// </summary>
internal readonly record struct ResumeGrant(RoomPosition Start, long OwnFrom, long OwnThrough)
{
    /// <summary>What a connection that received from <paramref name="start"/> may claim, with no own tail.</summary>
    public static ResumeGrant From(RoomPosition start) => new(start, start.Sequence, start.Sequence);

    /// <summary>Whether a client may be replayed to from <paramref name="offered"/>: in the start's epoch, not before it (any position when it started before the room's first broadcast).</summary>
    public bool Allows(RoomPosition offered)
        => Start.Epoch.Length == 0 || (string.Equals(offered.Epoch, Start.Epoch, StringComparison.Ordinal) && offered.Sequence >= Start.Sequence);

    /// <summary>Whether a broadcast at <paramref name="position"/> is in the own tail (not replayed).</summary>
    public bool IsOwn(RoomPosition position)
        => position.Sequence > OwnFrom && position.Sequence <= OwnThrough && string.Equals(position.Epoch, Start.Epoch, StringComparison.Ordinal);
}
