using System.Net.Sockets;
using System.Text;

namespace Realtime.TestSupport;

/// <summary>A WebSocket upgrade request written by hand over TCP, to read the server's whole answer when it refuses (status and body).</summary>
public static class RawUpgradeRequest
{
    /// <summary>Sends an upgrade request to <paramref name="url"/> with extra headers; returns the status code and the whole response text.</summary>
    public static async Task<(int StatusCode, string Response)> SendAsync(string url, params (string Name, string Value)[] headers)
    {
        var uri = new Uri(url);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(uri.Host, uri.Port).DefaultTimeout("a TCP connection");
        var request = new StringBuilder()
            .Append("GET ").Append(uri.PathAndQuery).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(uri.Authority).Append("\r\n")
            .Append("Connection: Upgrade, close\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n")
            .Append("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: realtime.v1\r\n");
        foreach ((string name, string value) in headers)
        {
            request.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        NetworkStream stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request.Append("\r\n").ToString())).AsTask().DefaultTimeout("the request to be sent");

        // A refusal ends with the connection closed ("Connection: close"); an accepted upgrade answers 101 and waits.
        var response = new StringBuilder();
        var buffer = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(buffer).AsTask().DefaultTimeout("the response")) > 0)
        {
            response.Append(Encoding.UTF8.GetString(buffer, 0, read));
            if (response.ToString().StartsWith("HTTP/1.1 101", StringComparison.Ordinal) && response.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                break;
            }
        }

        string text = response.ToString();
        return (int.Parse(text.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture), text);
    }
}
