using System.Text;
using System.Text.Json.Nodes;

namespace Realtime.Server.Internal.Documents;

/// <summary>The log payloads of a create (<c>{"type":…,"data":…}</c>) and of a restore (<c>{"v":…,"data":…}</c>), around the data as sent.</summary>
internal static class DocumentPayloads
{
    public static byte[] Create(string typeUri, ReadOnlyMemory<byte> data)
        => Concat($"{{\"type\":{JsonValue.Create(typeUri).ToJsonString()},\"data\":", data);

    public static byte[] Restore(long target, ReadOnlyMemory<byte> data) => Concat($"{{\"v\":{target},\"data\":", data);

    private static byte[] Concat(string head, ReadOnlyMemory<byte> data)
    {
        byte[] start = Encoding.UTF8.GetBytes(head);
        ReadOnlySpan<byte> value = data.IsEmpty ? "null"u8 : data.Span;
        byte[] all = new byte[start.Length + value.Length + 1];
        start.CopyTo(all, 0);
        value.CopyTo(all.AsSpan(start.Length));
        all[^1] = (byte)'}';
        return all;
    }
}
