using Realtime.Protocol;

namespace Realtime.Server.Internal.Connections;

/// <summary>
/// What the receive loop read beside a message, and what travels with it to the application without growing <see cref="Message"/>
/// (which every broadcast carries): when it arrived, for <c>realtime.server.message.duration</c> (a <see cref="System.Diagnostics.Stopwatch"/>
/// timestamp, 0 when that is not measured), and the trace context its frame carried (read only while the server traces).
/// </summary>
internal readonly record struct InboundStamp(long Arrived, WireTraceContext? Trace);
