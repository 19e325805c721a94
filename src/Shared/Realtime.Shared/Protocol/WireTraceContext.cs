namespace Realtime.Protocol;

/// <summary>
/// The W3C trace context a client's frame carried (its optional <c>traceparent</c> and <c>tracestate</c> fields), as sent: not
/// validated here. A server parses it only when it traces, and ignores a value that is not a valid W3C <c>traceparent</c>.
/// </summary>
/// <param name="TraceParent">The <c>traceparent</c> value.</param>
/// <param name="TraceState">The <c>tracestate</c> value, or <see langword="null"/>.</param>
internal sealed record WireTraceContext(string TraceParent, string? TraceState)
{
    /// <summary>The longest <c>traceparent</c> a reader keeps, in bytes as written: version <c>00</c> is 55; later versions may append fields.</summary>
    public const int MaxTraceParentLength = 256;

    /// <summary>The longest <c>tracestate</c> a reader keeps, in bytes as written (W3C: 32 entries; 512 characters is what propagators must carry).</summary>
    public const int MaxTraceStateLength = 1024;
}
