using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Realtime.Server.Internal.Recovery;

/// <summary>
/// Resume tokens (docs/protocol.md §3.1): <c>base64url(connectionId || HMAC-SHA256(key, "realtime.resume.v1\n" + connectionId + "\n" +
/// roomId + "\n" + identity)[0..16])</c>. A token names the connection it resumes and is bound to its room and its identity; the
/// key is the backplane's (<see cref="RealtimeBackplane.GetResumeKeyAsync"/>), the same on every node, read once per server.
/// Single use is the backplane's claim, not the token's.
/// </summary>
internal sealed class ResumeTokens(RealtimeBackplane backplane)
{
    private const int MacLength = 16;
    private const int TokenBytes = ConnectionId.Length + MacLength;
    private static readonly byte[] Label = "realtime.resume.v1\n"u8.ToArray();
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

    /// <summary>The token of a connection.</summary>
    public static string Issue(ReadOnlySpan<byte> key, string connectionId, string roomId, string identity)
    {
        Span<byte> token = stackalloc byte[TokenBytes];
        if (connectionId.Length != ConnectionId.Length || Encoding.ASCII.GetBytes(connectionId, token) != ConnectionId.Length)
        {
            throw new ArgumentException("A connection id is 20 ASCII characters.", nameof(connectionId));
        }

        Sign(key, connectionId, roomId, identity, token[ConnectionId.Length..]);
        return Base64Url.EncodeToString(token);
    }

    /// <summary>Checks a token offered for <paramref name="roomId"/> by a connection of <paramref name="identity"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="token">What the client offered.</param>
    /// <param name="roomId">The room it joins now.</param>
    /// <param name="identity">Its identity now.</param>
    /// <param name="connectionId">The connection the token names, when it is genuine.</param>
    /// <returns>Whether the token was issued with this key to a connection of that room and identity.</returns>
    public static bool TryRead(ReadOnlySpan<byte> key, string token, string roomId, string identity, out string connectionId)
    {
        connectionId = "";
        Span<byte> bytes = stackalloc byte[TokenBytes + 3];
        if (token.Length != Base64Url.GetEncodedLength(TokenBytes) || token.AsSpan().ContainsAnyExcept(TokenAlphabet)
            || !Base64Url.TryDecodeFromChars(token, bytes, out int written) || written != TokenBytes)
        {
            return false;
        }

        foreach (byte b in bytes[..ConnectionId.Length])
        {
            if (!(char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_'))
            {
                return false;
            }
        }

        string id = Encoding.ASCII.GetString(bytes[..ConnectionId.Length]);
        Span<byte> expected = stackalloc byte[MacLength];
        Sign(key, id, roomId, identity, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, bytes.Slice(ConnectionId.Length, MacLength)))
        {
            return false;
        }

        connectionId = id;
        return true;
    }

    private static void Sign(ReadOnlySpan<byte> key, string connectionId, string roomId, string identity, Span<byte> mac)
    {
        int length = Label.Length + Encoding.UTF8.GetByteCount(connectionId) + Encoding.UTF8.GetByteCount(roomId) + Encoding.UTF8.GetByteCount(identity) + 2;
        byte[] message = new byte[length];
        int at = 0;
        Label.CopyTo(message, 0);
        at += Label.Length;
        at += Encoding.UTF8.GetBytes(connectionId, message.AsSpan(at));
        message[at++] = (byte)'\n';
        at += Encoding.UTF8.GetBytes(roomId, message.AsSpan(at));
        message[at++] = (byte)'\n';
        Encoding.UTF8.GetBytes(identity, message.AsSpan(at));
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
