using System.Net.Sockets;

namespace Realtime.Testing;

/// <summary>One connection carried by a <see cref="FaultProxy"/>: a client socket paired with a socket to the server.</summary>
public sealed class ProxiedConnection
{
    private readonly Socket _client;
    private readonly Socket _server;
    private int _ended;

    internal ProxiedConnection(Socket client, Socket server)
    {
        _client = client;
        _server = server;
    }

    /// <summary>Resets the connection: both the client and the server get a TCP RST (a crashed peer or a middlebox dropping state).</summary>
    public void Reset() => End(abortive: true);

    /// <summary>Closes the connection cleanly: both sides get a TCP FIN, but no WebSocket close frame (a peer that went away).</summary>
    public void Close() => End(abortive: false);

    internal void Dispose() => End(abortive: false);

    private void End(bool abortive)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return;
        }

        foreach (Socket socket in (Socket[])[_client, _server])
        {
            try
            {
                if (abortive)
                {
                    socket.LingerState = new LingerOption(true, 0); // Close then sends RST instead of FIN
                }
                else if (socket.Connected)
                {
                    socket.Shutdown(SocketShutdown.Both);
                }
            }
            catch (SocketException)
            {
                // Already gone.
            }
            catch (ObjectDisposedException)
            {
                // Already gone.
            }

            socket.Dispose();
        }
    }
}
