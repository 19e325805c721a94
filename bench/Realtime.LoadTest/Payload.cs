using System.Buffers.Text;
using System.Diagnostics;

namespace Realtime.LoadTest;

/// <summary>
/// The 100-character payload every scenario sends: <c>P|client|sequence|timestamp|xxx…</c>. Each system carries it
/// as a JSON string (or raw text), so the receiver finds it by its marker whatever the framing around it.
/// </summary>
internal readonly record struct Payload(int Client, long Sequence, long Timestamp)
{
    public const int Length = 100;

    public static string Create(int client, long sequence)
    {
        string head = $"P|{client}|{sequence}|{Stopwatch.GetTimestamp()}|";
        return head.PadRight(Length, 'x');
    }

    /// <summary>Calls <paramref name="onPayload"/> for every payload in <paramref name="message"/> (SignalR may batch several records in one message).</summary>
    public static void ForEach(ReadOnlySpan<byte> message, Action<Payload> onPayload)
    {
        while (true)
        {
            int at = message.IndexOf("P|"u8);
            if (at < 0)
            {
                return;
            }

            message = message[(at + 2)..];
            if (TryField(ref message, out long client) && TryField(ref message, out long sequence) && TryField(ref message, out long timestamp))
            {
                onPayload(new Payload((int)client, sequence, timestamp));
            }
        }
    }

    public TimeSpan Age => Stopwatch.GetElapsedTime(Timestamp);

    private static bool TryField(ref ReadOnlySpan<byte> rest, out long value)
    {
        int bar = rest.IndexOf((byte)'|');
        if (bar < 0 || !Utf8Parser.TryParse(rest[..bar], out value, out int consumed) || consumed != bar)
        {
            value = 0;
            return false;
        }

        rest = rest[(bar + 1)..];
        return true;
    }
}
