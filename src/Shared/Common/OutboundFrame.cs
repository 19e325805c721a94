namespace Realtime.Internal;

/// <summary>An encoded frame waiting in a connection's outbound queue. A broadcast queues the same bytes to every recipient.</summary>
internal readonly record struct OutboundFrame(ReadOnlyMemory<byte> Bytes, bool IsBinary);
