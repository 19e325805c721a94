using Realtime.Server.Internal.Protocols;
using Realtime.Server.Internal.Protocols.JsCollaboration;

namespace Realtime.Server.Diagnostics;

/// <summary>
/// The tags of <see cref="RealtimeMetrics"/>: fixed keys and a few fixed values, each pair built once, so that recording boxes and
/// allocates nothing.
/// </summary>
internal static class MetricTags
{
    public const string EndpointKey = "realtime.endpoint";
    public const string ProtocolKey = "realtime.protocol";
    public const string DisconnectReasonKey = "realtime.disconnect.reason";
    public const string RefusalReasonKey = "realtime.refusal.reason";
    public const string PauseCauseKey = "realtime.pause.cause";

    // realtime.refusal.reason values.
    public const string ShuttingDown = "shutting_down";
    public const string Origin = "origin";
    public const string ConnectionLimit = "connection_limit";
    public const string AddressLimit = "address_limit";
    public const string BadRequest = "bad_request";
    public const string Rejected = "rejected";
    public const string HandshakeTimeout = "handshake_timeout";
    public const string Abandoned = "abandoned";
    public const string Error = "error";

    private static readonly KeyValuePair<string, object?> WebSocketEndpoint = new(EndpointKey, "websocket");
    private static readonly KeyValuePair<string, object?> DenseEndpoint = new(EndpointKey, "dense");
    private static readonly KeyValuePair<string, object?> RealtimeV1 = new(ProtocolKey, "realtime.v1");
    private static readonly KeyValuePair<string, object?> JsCollaboration = new(ProtocolKey, "js-collaboration");
    private static readonly KeyValuePair<string, object?> ApplicationPause = new(PauseCauseKey, "application");
    private static readonly KeyValuePair<string, object?> RateLimitPause = new(PauseCauseKey, "rate_limit");

    private static readonly KeyValuePair<string, object?>[] Disconnects =
    [
        new(DisconnectReasonKey, "client_disconnect"),
        new(DisconnectReasonKey, "server_disconnect"),
        new(DisconnectReasonKey, "ping_timeout"),
        new(DisconnectReasonKey, "transport_close"),
        new(DisconnectReasonKey, "transport_error"),
    ];

    /// <summary><c>realtime.endpoint</c>: <c>dense</c> for the dense listener, <c>websocket</c> for an ASP.NET Core endpoint.</summary>
    public static KeyValuePair<string, object?> Endpoint(bool dense) => dense ? DenseEndpoint : WebSocketEndpoint;

    /// <summary><c>realtime.protocol</c>: <c>js-collaboration</c> or <c>realtime.v1</c>.</summary>
    public static KeyValuePair<string, object?> Protocol(RealtimeProtocol protocol) => protocol is JsCollaborationProtocol ? JsCollaboration : RealtimeV1;

    /// <summary><c>realtime.disconnect.reason</c>, in snake case.</summary>
    public static KeyValuePair<string, object?> Disconnect(DisconnectReason reason)
        => (uint)reason < (uint)Disconnects.Length ? Disconnects[(int)reason] : Disconnects[(int)DisconnectReason.TransportError];

    /// <summary><c>realtime.pause.cause</c>.</summary>
    public static KeyValuePair<string, object?> Pause(bool rateLimit) => rateLimit ? RateLimitPause : ApplicationPause;
}
