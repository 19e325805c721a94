using System.Net;

namespace Realtime.Server.Internal;

/// <summary>
/// Counts the connections of the server and of each client IP address, from the upgrade until the connection ends,
/// so that a request over a limit is refused before it costs a WebSocket.
/// </summary>
internal sealed class ConnectionLimiter(RealtimeOptions options)
{
    private readonly Dictionary<IPAddress, int> _perAddress = [];
    private readonly Lock _gate = new();
    private int _total;

    public enum Outcome
    {
        Admitted,
        ServerFull,
        AddressFull,
    }

    /// <summary>Takes a slot for a connection from <paramref name="address"/> (<see langword="null"/> when unknown: only the server limit applies).</summary>
    /// <returns>The outcome, and when admitted the slot, which gives itself back once when disposed.</returns>
    public (Outcome Outcome, IDisposable? Slot) TryAdmit(IPAddress? address)
    {
        Outcome outcome = TryTake(address);
        return (outcome, outcome == Outcome.Admitted ? new Slot(this, address) : null);
    }

    private Outcome TryTake(IPAddress? address)
    {
        address = Normalize(address);
        lock (_gate)
        {
            if (_total >= options.MaxConnections)
            {
                return Outcome.ServerFull;
            }

            if (address is not null)
            {
                _perAddress.TryGetValue(address, out int count);
                if (count >= options.MaxConnectionsPerIpAddress)
                {
                    return Outcome.AddressFull;
                }

                _perAddress[address] = count + 1;
            }

            _total++;
            return Outcome.Admitted;
        }
    }

    private void Release(IPAddress? address)
    {
        address = Normalize(address);
        lock (_gate)
        {
            _total--;
            if (address is not null && _perAddress.TryGetValue(address, out int count))
            {
                if (count <= 1)
                {
                    _perAddress.Remove(address);
                }
                else
                {
                    _perAddress[address] = count - 1;
                }
            }
        }
    }

    private sealed class Slot(ConnectionLimiter limiter, IPAddress? address) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                limiter.Release(address);
            }
        }
    }

    private static IPAddress? Normalize(IPAddress? address) => address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;
}
