using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Realtime.Server.StackExchangeRedis;

/// <summary>
/// Recovery across the cluster (docs/recovery.md): a room's missed broadcasts read from its log in Redis, so a client that drops on
/// one node recovers on another; resume claims kept in Redis, so a token is used once in the whole cluster; and the secret that signs
/// resume tokens, one for every node. Each is one round trip; none is made for a room without history.
/// </summary>
internal sealed class RedisRecovery(RedisLink link, RedisKeys keys, ILogger logger)
{
    /// <summary>The length of the secret that signs resume tokens, in bytes.</summary>
    public const int KeyLength = 32;

    // KEYS: the room's sequence, its log. ARGV: the epoch read after ('' for before the room's first broadcast), the number read
    // after, the most entries, the greatest age (ms) of the oldest. Returns false when the broadcasts after that position cannot be
    // given whole (another epoch, a number the room never reached, more than the most, an oldest one too old, or entries the log no
    // longer holds); otherwise the room's epoch followed by the frames of every broadcast after the position, in order.
    private const string ReadScript = """
        local epoch = redis.call('HGET', KEYS[1], 'e')
        local after = tonumber(ARGV[2])
        if not epoch then
          if ARGV[1] == '' and after == 0 then return { '' } end
          return false
        end
        if ARGV[1] ~= '' and ARGV[1] ~= epoch then return false end
        local last = tonumber(redis.call('HGET', KEYS[1], 's') or '0')
        if after > last or last - after > tonumber(ARGV[3]) then return false end
        local reply = { epoch }
        if last == after then return reply end
        local t = redis.call('TIME')
        local oldest = t[1] * 1000 + math.floor(t[2] / 1000) - tonumber(ARGV[4])
        local entries = redis.call('XRANGE', KEYS[2], string.format('%d-0', after + 1), string.format('%d-0', last))
        if #entries ~= last - after then return false end
        for i, entry in ipairs(entries) do
          if entry[1] ~= string.format('%d-0', after + i) then return false end
          local fields = entry[2]
          local e, f, at
          for j = 1, #fields, 2 do
            local name = fields[j]
            if name == 'e' then e = fields[j + 1] elseif name == 'f' then f = fields[j + 1] elseif name == 't' then at = tonumber(fields[j + 1]) end
          end
          if e ~= epoch or not f then return false end
          if i == 1 and (not at or at < oldest) then return false end
          reply[i + 1] = f
        end
        return reply
        """;

    // KEYS: the former connection's claim, the connection directory. ARGV: the window (ms), the connection. Returns 0 (refused), 1
    // (claimed: it ended within the window) or 2 (claimed while it is still open on some node). Either claim holds until the window
    // ends, so the token is refused for as long as it could still be presented.
    private const string ClaimScript = """
        local state = redis.call('GET', KEYS[1])
        if state == 'c' then return 0 end
        if state == 'e' then
          redis.call('SET', KEYS[1], 'c', 'PX', ARGV[1])
          return 1
        end
        if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then
          redis.call('SET', KEYS[1], 'c', 'PX', ARGV[1])
          return 2
        end
        return 0
        """;

    // KEYS: the secret. ARGV: new random bytes, kept when there is no secret yet. Returns the secret.
    private const string KeyScript = """
        redis.call('SET', KEYS[1], ARGV[1], 'NX')
        return redis.call('GET', KEYS[1])
        """;

    private static readonly RedisValue Ended = "e";

    private byte[]? _key;

    /// <summary>Reads a room's broadcasts after <paramref name="after"/> from its log (see <see cref="RealtimeBackplane.ReadHistoryAsync"/>).</summary>
    /// <returns>The broadcasts, each with its position; <see langword="null"/> when they cannot be given whole, or Redis failed the read (logged).</returns>
    public async ValueTask<IReadOnlyList<RoomBroadcast>?> ReadHistoryAsync(string roomId, RoomPosition after, int maxMessages, TimeSpan maxAge,
                                                                           CancellationToken cancellationToken)
    {
        if (maxMessages < 0 || after.Epoch is null || after.Sequence > (1L << 53))
        {
            return null; // past what a script's numbers hold exactly: no room gets there
        }

        long maxAgeMs = (long)Math.Clamp(maxAge.TotalMilliseconds, 0, long.MaxValue / 2);
        RedisResult result;
        try
        {
            result = await link.RunAsync(redis => redis.GetDatabase().ScriptEvaluateAsync(ReadScript, [keys.Sequence(roomId), keys.Log(roomId)],
                                                                                          [after.Epoch, after.Sequence, maxMessages, maxAgeMs]),
                                         "read a room's history", cancellationToken).ConfigureAwait(false);
        }
        catch (RedisBackplaneException ex)
        {
            RedisLog.HistoryReadFailed(logger, roomId, ex);
            return null;
        }

        if (result.IsNull)
        {
            return null;
        }

        var reply = (RedisResult[])result!;
        if (reply.Length == 1)
        {
            return []; // nothing was missed
        }

        if (!RoomSequence.TryEpochText((byte[]?)reply[0], out string epoch))
        {
            return null;
        }

        long first = after.Sequence + 1; // 1 after ("", 0): the epoch's first broadcast
        var broadcasts = new RoomBroadcast[reply.Length - 1];
        for (int i = 0; i < broadcasts.Length; i++)
        {
            byte[]? frame = (byte[]?)reply[i + 1];
            if (frame is null || !BackplaneCodec.TryDecodeBroadcast(roomId, frame, new RoomPosition(epoch, first + i), out RoomBroadcast? broadcast))
            {
                RedisLog.FrameUndecodable(logger, roomId);
                return null;
            }

            broadcasts[i] = broadcast;
        }

        return broadcasts;
    }

    /// <summary>Claims a former connection's resume once in the cluster (see <see cref="RealtimeBackplane.ClaimResumeAsync"/>).</summary>
    /// <returns>The claim; <see cref="ResumeClaim.Refused"/> when Redis failed it (logged).</returns>
    public async ValueTask<ResumeClaim> ClaimAsync(string connectionId, TimeSpan window, CancellationToken cancellationToken)
    {
        try
        {
            RedisResult result = await link.RunAsync(redis => redis.GetDatabase().ScriptEvaluateAsync(ClaimScript, [keys.ResumeClaim(connectionId), keys.Connections],
                                                                                                      [WindowMs(window), connectionId]),
                                                     "claim a resume", cancellationToken).ConfigureAwait(false);
            return (long)result switch
            {
                1 => ResumeClaim.Claimed,
                2 => ResumeClaim.ClaimedLive,
                _ => ResumeClaim.Refused,
            };
        }
        catch (RedisBackplaneException ex)
        {
            RedisLog.ResumeClaimFailed(logger, ex);
            return ResumeClaim.Refused;
        }
    }

    /// <summary>A connection with a resume token ended: it may be resumed within <paramref name="window"/>, unless it was claimed already.</summary>
    /// <exception cref="RedisBackplaneException">Redis failed it.</exception>
    public async ValueTask EndedAsync(string connectionId, TimeSpan window, CancellationToken cancellationToken)
        => await link.RunAsync(redis => redis.GetDatabase().StringSetAsync(keys.ResumeClaim(connectionId), Ended, TimeSpan.FromMilliseconds(WindowMs(window)), When.NotExists),
                               "record a connection's end for its resume", cancellationToken).ConfigureAwait(false);

    /// <summary>The cluster's secret for resume tokens: set by the first node that asks, read by the others; kept once read.</summary>
    /// <exception cref="RedisBackplaneException">Redis failed it, or holds something else under its key.</exception>
    public async ValueTask<ReadOnlyMemory<byte>> GetKeyAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _key) is { } known)
        {
            return known;
        }

        byte[] candidate = RandomNumberGenerator.GetBytes(KeyLength);
        RedisResult result = await link.RunAsync(redis => redis.GetDatabase().ScriptEvaluateAsync(KeyScript, [keys.ResumeKey], [candidate]),
                                                 "read the resume tokens' secret", cancellationToken).ConfigureAwait(false);
        byte[]? key = (byte[]?)result;
        if (key is null || key.Length < KeyLength)
        {
            throw new RedisBackplaneException($"The resume tokens' secret in Redis ({keys.ResumeKey}) is not {KeyLength} bytes or more; delete it to have a new one made.");
        }

        return Interlocked.CompareExchange(ref _key, key, null) ?? key;
    }

    private static long WindowMs(TimeSpan window) => Math.Max((long)Math.Ceiling(window.TotalMilliseconds), 1);
}
