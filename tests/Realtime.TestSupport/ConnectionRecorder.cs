using System.Collections.Concurrent;
using Realtime.Client;

namespace Realtime.TestSupport;

/// <summary>
/// Records every event of a client connection as text ("connect", "disconnect:TransportClose",
/// "reconnectAttempt:1", "error:...", "message:type") and lets a test await a condition on them.
/// </summary>
public sealed class ConnectionRecorder
{
    private readonly WatchedList<string> _events = new();

    public ConnectionRecorder(Connection connection)
    {
        Connection = connection;
        connection.On(ConnectionEvents.Connect, () =>
        {
            ConnectIds.Enqueue(connection.Id);
            Add("connect");
        });
        connection.On(ConnectionEvents.Disconnect, reason =>
        {
            StateInDisconnect.Enqueue((connection.Id, connection.Connected));
            Add("disconnect:" + reason);
        });
        connection.On(ConnectionEvents.Error, error =>
        {
            Errors.Enqueue(error);
            Add("error");
        });
        connection.On(ConnectionEvents.ReconnectAttempt, attempt => Add("reconnectAttempt:" + attempt));
        connection.On(ConnectionEvents.Reconnect, attempts => Add("reconnect:" + attempts));
        connection.On(ConnectionEvents.ReconnectFailed, () => Add("reconnectFailed"));
        connection.On(ConnectionEvents.Message, message =>
        {
            Messages.Enqueue(message);
            Add("message:" + message.Type);
        });
    }

    public Connection Connection { get; }

    public ConcurrentQueue<Message> Messages { get; } = new();

    public ConcurrentQueue<Exception> Errors { get; } = new();

    public ConcurrentQueue<string?> ConnectIds { get; } = new();

    /// <summary>(Id, Connected) as seen inside each Disconnect handler.</summary>
    public ConcurrentQueue<(string? Id, bool Connected)> StateInDisconnect { get; } = new();

    public IReadOnlyList<string> Events => _events.Items;

    /// <summary>Completes when <paramref name="condition"/> holds for the events so far (checked at every new event).</summary>
    public Task WaitForAsync(Func<IReadOnlyList<string>, bool> condition, string what) => _events.WaitForAsync(condition, what);

    public Task WaitForEventAsync(string evt) => WaitForAsync(e => e.Contains(evt), $"event '{evt}'");

    public Task WaitForCountAsync(string prefix, int count) => WaitForAsync(e => e.Count(x => x.StartsWith(prefix, StringComparison.Ordinal)) >= count, $"{count} '{prefix}' events");

    private void Add(string evt) => _events.Add(evt);
}
