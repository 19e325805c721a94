using System.Security.Cryptography;

namespace Realtime;

/// <summary>
/// Connection identifiers: exactly <see cref="Length"/> characters from <c>A–Z a–z 0–9 - _</c>,
/// drawn from a cryptographically secure generator (120 bits). The server assigns them.
/// </summary>
public static class ConnectionId
{
    /// <summary>The length of every connection id: 20 characters.</summary>
    public const int Length = 20;

    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    /// <summary>Creates a new random connection id (120 bits from <see cref="RandomNumberGenerator"/>).</summary>
    /// <returns>A 20-character id.</returns>
    public static string New()
    {
        // 15 random bytes = 120 bits = 20 base64url characters of 6 bits each.
        Span<byte> bytes = stackalloc byte[15];
        RandomNumberGenerator.Fill(bytes);
        Span<char> chars = stackalloc char[Length];
        for (int i = 0, c = 0; i < bytes.Length; i += 3)
        {
            int v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
            chars[c++] = Alphabet[(v >> 18) & 63];
            chars[c++] = Alphabet[(v >> 12) & 63];
            chars[c++] = Alphabet[(v >> 6) & 63];
            chars[c++] = Alphabet[v & 63];
        }

        return new string(chars);
    }

    /// <summary>Returns whether <paramref name="id"/> has the form of a connection id.</summary>
    /// <param name="id">The candidate.</param>
    /// <returns><see langword="true"/> when it is 20 characters from the id alphabet.</returns>
    public static bool IsValid(string? id)
    {
        if (id is null || id.Length != Length)
        {
            return false;
        }

        foreach (char c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_')
            {
                return false;
            }
        }

        return true;
    }
}
