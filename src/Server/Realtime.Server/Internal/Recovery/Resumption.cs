using System.Security.Claims;
using Realtime.Internal;
using Realtime.Server.Diagnostics;

namespace Realtime.Server.Internal.Recovery;

/// <summary>
/// The server's side of recovery after a brief drop (docs/protocol.md §3.1), for a connection whose <c>hello</c> asked for it: after
/// connect middleware accepted it, its resume token is checked (signature, room, identity) and claimed once through the backplane,
/// and it joins its room with the replay of what it missed, or is told <c>recovered: false</c> and joins as a fresh connection.
/// Nothing here closes the connection or sends it an error: a refused resume is only a <c>welcome</c> that says so.
/// </summary>
internal static class Resumption
{
    /// <summary>Joins a connection that asked for recovery to its room (the step that queues its <c>welcome</c>).</summary>
    /// <returns>Whether the join created the room on this node.</returns>
    /// <exception cref="Exception">The room's subscription failed, or the application's identity function threw.</exception>
    public static async ValueTask<bool> JoinAsync(ServerConnection connection)
    {
        RealtimeServer server = connection.Server;
        RecoveryState recovery = connection.Recovery!;
        bool offered = recovery.OfferedToken is not null;
        HistoryPolicy? policy = server.Node.Rooms.Histories;
        if (policy is null || !policy.Keeps(connection.RoomId))
        {
            if (offered)
            {
                RealtimeLog.ResumeRefused(server.Logger, connection.Id, connection.RoomId, "the room keeps no history");
            }

            return (await server.Node.Rooms.AddAsync(connection, new Join(connection, key: null, identity: "") { Offered = offered }).ConfigureAwait(false)).Created;
        }

        string identity = IdentityOf(connection);
        byte[]? key = null;
        try
        {
            key = await server.Node.ResumeTokens.KeyAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            RealtimeLog.RecoveryBackplaneFailed(server.Logger, "read the resume key", connection.Id, connection.RoomId, ex);
        }

        (RoomPosition? after, string? former, ResumeGrant? grant) = offered ? await ClaimAsync(connection, key, identity).ConfigureAwait(false) : default;
        var join = new Join(connection, key, identity) { After = after, FormerConnectionId = former, Former = grant, Offered = offered };
        (bool created, int replayed) = await server.Node.Rooms.AddAsync(connection, join).ConfigureAwait(false);
        if (replayed >= 0 && after is not null)
        {
            RealtimeLog.ConnectionResumed(server.Logger, connection.Id, former!, connection.RoomId, replayed);
        }
        else if (replayed < 0)
        {
            RealtimeLog.ResumeRefused(server.Logger, connection.Id, connection.RoomId, "what it missed is no longer held whole, or does not fit its queue");
        }

        return created;
    }

    /// <summary>
    /// A connection that was given a resume token ended: the backplane records it, so that it may be resumed within the window.
    /// Never waits; a failure is logged (its client is then not recovered).
    /// </summary>
    public static void Ended(ServerConnection connection)
    {
        RealtimeServer server = connection.Server;
        try
        {
            ValueTask ended = server.Backplane.ConnectionEndedAsync(connection.Id, server.Options.Recovery.MaxAge, CancellationToken.None);
            if (!ended.IsCompletedSuccessfully)
            {
                _ = ObserveAsync(ended, connection);
            }
        }
        catch (Exception ex)
        {
            RealtimeLog.RecoveryBackplaneFailed(server.Logger, "record the end", connection.Id, connection.RoomId, ex);
        }
    }

    /// <summary>The identity a token is bound to: <see cref="RecoveryOptions.Identity"/>, or the user's name identifier, or its name, or <c>""</c>.</summary>
    internal static string IdentityOf(ServerConnection connection)
    {
        if (connection.Server.Options.Recovery.Identity is { } identity)
        {
            return identity(connection) ?? "";
        }

        ClaimsPrincipal user = connection.User;
        return user.FindFirst(ClaimTypes.NameIdentifier)?.Value ?? user.Identity?.Name ?? "";
    }

    /// <summary>Checks the offered token and position and claims the former connection's resume.</summary>
    /// <returns>The position to resume from and the former connection's id; <see langword="null"/> position when refused.</returns>
    private static async ValueTask<(RoomPosition? After, string? Former, ResumeGrant? Grant)> ClaimAsync(ServerConnection connection, byte[]? key, string identity)
    {
        RealtimeServer server = connection.Server;
        RecoveryState recovery = connection.Recovery!;
        if (key is null || !ResumeTokens.TryRead(key, recovery.OfferedToken!, connection.RoomId, identity, out string former, out ResumeGrant grant))
        {
            RealtimeLog.ResumeRefused(server.Logger, connection.Id, connection.RoomId, "the token is not valid for this room and identity");
            return default;
        }

        if (!RoomPosition.TryParse(recovery.OfferedPosition, out RoomPosition after))
        {
            RealtimeLog.ResumeRefused(server.Logger, connection.Id, connection.RoomId, "no valid position was offered");
            return default;
        }

        if (!grant.Allows(after))
        {
            // A position before the one its connection started from: what the room said before it was there is not its to read.
            RealtimeLog.ResumeRefused(server.Logger, connection.Id, connection.RoomId, "the position offered is before its connection's start");
            return default;
        }

        ResumeClaim claim;
        try
        {
            claim = await server.Backplane.ClaimResumeAsync(former, server.Options.Recovery.MaxAge, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            RealtimeLog.RecoveryBackplaneFailed(server.Logger, "claim the resume", connection.Id, connection.RoomId, ex);
            return default;
        }

        if (claim == ResumeClaim.Refused)
        {
            RealtimeLog.ResumeRefused(server.Logger, connection.Id, connection.RoomId, "the token was used already, or its window passed");
            return default;
        }

        if (claim == ResumeClaim.ClaimedLive && !server.Node.Close(former))
        {
            try
            {
                await server.Backplane.CloseAsync(former, CancellationToken.None).ConfigureAwait(false); // still open on another node
            }
            catch (Exception ex)
            {
                RealtimeLog.RecoveryBackplaneFailed(server.Logger, "close the former connection", connection.Id, connection.RoomId, ex);
            }
        }

        return (after, former, grant);
    }

    private static async Task ObserveAsync(ValueTask ended, ServerConnection connection)
    {
        try
        {
            await ended.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            RealtimeLog.RecoveryBackplaneFailed(connection.Server.Logger, "record the end", connection.Id, connection.RoomId, ex);
        }
    }

    /// <summary>One connection's join: its <c>welcome</c> with the recovery fields, and the backplane's history.</summary>
    private sealed class Join(ServerConnection connection, byte[]? key, string identity) : HistoryJoin
    {
        public override async ValueTask<IReadOnlyList<RoomBroadcast>?> FetchAsync(RoomPosition after)
        {
            RealtimeServer server = connection.Server;
            RecoveryOptions options = server.Options.Recovery;
            try
            {
                return await server.Backplane.ReadHistoryAsync(connection.RoomId, after, options.MaxMessages, options.MaxAge, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                RealtimeLog.RecoveryBackplaneFailed(server.Logger, "read the room's history", connection.Id, connection.RoomId, ex);
                return null;
            }
        }

        /// <summary>Under the room's lock: the token is signed here, once the position it starts from is known.</summary>
        public override OutboundFrame Welcome(RoomPosition? position, bool? recovered, ResumeGrant? grant)
        {
            string? token = key is not null && grant is { } granted ? ResumeTokens.Issue(key, connection.Id, connection.RoomId, identity, granted) : null;
            connection.Recovery!.TokenIssued = token is not null;
            return connection.Protocol.EncodeAccept(connection.Id, connection.RoomId, connection.Server.Options, token, position?.ToString(), recovered);
        }
    }
}
