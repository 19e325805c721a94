namespace Realtime.Internal;

/// <summary>An encoded frame waiting in a connection's outbound queue. A broadcast queues the same bytes to every recipient.</summary>
/// <param name="Bytes">The frame's bytes.</param>
/// <param name="IsBinary">Whether it is sent as a binary WebSocket message (otherwise text).</param>
/// <param name="TextLength">
/// When above zero, the frame is two WebSocket messages: the first <paramref name="TextLength"/> bytes as text, then the rest as
/// binary (a protocol whose binary data follows a text header, such as a Socket.IO binary event and its attachment).
/// </param>
internal readonly record struct OutboundFrame(ReadOnlyMemory<byte> Bytes, bool IsBinary, int TextLength = 0);
