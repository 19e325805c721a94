using Realtime.Server;
using Realtime.Testing;
using Realtime.TestSupport;

namespace Realtime.Client.Tests;

/// <summary>
/// Recovery after a brief drop, end to end: the C# client against the real server on Kestrel at 127.0.0.1, its link cut by the
/// fault proxy. Rooms named <c>history-*</c> keep a history of 250 broadcasts; other rooms keep none.
/// </summary>
/// <remarks>
/// A member is cut off by resetting its proxied connection; it stays away (its attempts fail, its auth provider refusing) until the
/// test lets it back, after a witness connected directly has received what the room broadcast meanwhile.
/// </remarks>
public abstract class RecoveryTests(HostMode mode) : IAsyncLifetime
{
    private const int HistorySize = 250;

    private KestrelRealtimeHost _host = null!;
    private FaultProxy _proxy = null!;
    private volatile bool _away;

    /// <summary>Against <c>MapRealtime</c>.</summary>
    public sealed class OnEndpoint() : RecoveryTests(HostMode.Endpoint);

    /// <summary>Against the dense listener (<c>ListenOptions.UseRealtime</c>).</summary>
    public sealed class OnDenseListener() : RecoveryTests(HostMode.Dense);

    public async Task InitializeAsync()
    {
        _host = await KestrelRealtimeHost.StartAsync(mode, options =>
        {
            options.Recovery.Enabled = true;
            options.Recovery.MaxMessages = HistorySize;
            options.Recovery.Rooms.Add("history-*");
        });
        _proxy = await FaultProxy.StartAsync(new Uri(_host.Url));
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task A_member_cut_off_while_200_messages_are_broadcast_receives_them_all_in_order_once_and_is_told_it_recovered()
    {
        await using Connection sender = await ConnectAsync("history-1");
        await using Connection witness = await ConnectAsync("history-1");
        await using Connection member = await ConnectThroughProxyAsync("history-1");
        var onMember = new ConnectionRecorder(member);
        var onWitness = new ConnectionRecorder(witness);
        var recoveredAtReconnect = new WatchedList<bool>();
        member.On(ConnectionEvents.Reconnect, _ => recoveredAtReconnect.Add(member.Recovered));
        Assert.False(member.Recovered); // a first connection

        sender.Send(0, "n");
        await onMember.WaitForCountAsync("message:", 1);
        await CutOffAsync(onMember);
        for (int i = 1; i <= 200; i++)
        {
            sender.Send(i, "n");
        }

        await onWitness.WaitForCountAsync("message:", 201); // the room has broadcast them all
        _away = false;
        await recoveredAtReconnect.WaitForAsync(r => r.Count == 1, "the reconnection");
        Assert.Equal([true], recoveredAtReconnect.Items);
        Assert.True(member.Recovered);

        // A newer broadcast comes after the replayed ones, and nothing comes twice.
        sender.Send(201, "n");
        await onMember.WaitForCountAsync("message:", 202);
        Assert.Equal(Enumerable.Range(0, 202), onMember.Messages.Select(m => m.Data.GetInt32()));
    }

    [Fact]
    public async Task Messages_a_member_sends_while_cut_off_are_delivered_after_its_reconnection_beside_the_replay()
    {
        await using Connection other = await ConnectAsync("history-2");
        await using Connection witness = await ConnectAsync("history-2");
        await using Connection member = await ConnectThroughProxyAsync("history-2");
        var onMember = new ConnectionRecorder(member);
        var onOther = new ConnectionRecorder(other);
        var onWitness = new ConnectionRecorder(witness);

        await CutOffAsync(onMember);
        member.Send("first", "offline");
        await member.SendAsync("second", "offline");
        other.Send(1, "n");
        other.Send(2, "n");
        await onWitness.WaitForCountAsync("message:n", 2);
        _away = false;

        await onOther.WaitForCountAsync("message:offline", 2);
        await onMember.WaitForCountAsync("message:n", 2);
        Assert.True(member.Recovered);
        Assert.Equal(["first", "second"], onOther.Messages.Select(m => m.Data.GetString()));
        Assert.Equal([1, 2], onMember.Messages.Select(m => m.Data.GetInt32()));
    }

    [Fact]
    public async Task A_second_drop_recovers_too_with_the_token_of_the_recovered_connection()
    {
        await using Connection sender = await ConnectAsync("history-3");
        await using Connection witness = await ConnectAsync("history-3");
        await using Connection member = await ConnectThroughProxyAsync("history-3");
        var onMember = new ConnectionRecorder(member);
        var onWitness = new ConnectionRecorder(witness);
        var recoveredAtReconnect = new WatchedList<bool>();
        member.On(ConnectionEvents.Reconnect, _ => recoveredAtReconnect.Add(member.Recovered));

        for (int drop = 1; drop <= 2; drop++)
        {
            await CutOffAsync(onMember);
            for (int i = 0; i < 10; i++)
            {
                sender.Send((drop * 10) + i, "n");
            }

            await onWitness.WaitForCountAsync("message:", drop * 10);
            _away = false;
            await recoveredAtReconnect.WaitForAsync(r => r.Count == drop, $"reconnection {drop}");
            await onMember.WaitForCountAsync("message:", drop * 10);
        }

        Assert.Equal([true, true], recoveredAtReconnect.Items);
        Assert.Equal(Enumerable.Range(10, 20), onMember.Messages.Select(m => m.Data.GetInt32()));
    }

    [Fact]
    public async Task A_member_that_missed_more_than_the_history_holds_is_told_it_did_not_recover_and_gets_only_newer_messages()
    {
        await using Connection sender = await ConnectAsync("history-4");
        await using Connection witness = await ConnectAsync("history-4");
        await using Connection member = await ConnectThroughProxyAsync("history-4");
        var onMember = new ConnectionRecorder(member);
        var onWitness = new ConnectionRecorder(witness);
        var recoveredAtReconnect = new WatchedList<bool>();
        member.On(ConnectionEvents.Reconnect, _ => recoveredAtReconnect.Add(member.Recovered));

        sender.Send(0, "n");
        await onMember.WaitForCountAsync("message:", 1);
        await CutOffAsync(onMember);
        for (int i = 1; i <= HistorySize + 10; i++)
        {
            sender.Send(i, "n");
        }

        await onWitness.WaitForCountAsync("message:", HistorySize + 11);
        _away = false;
        await recoveredAtReconnect.WaitForAsync(r => r.Count == 1, "the reconnection");
        Assert.Equal([false], recoveredAtReconnect.Items);

        sender.Send(-1, "n");
        await onMember.WaitForCountAsync("message:", 2);
        Assert.Equal([0, -1], onMember.Messages.Select(m => m.Data.GetInt32()));
        Assert.False(member.Recovered);
    }

    [Fact]
    public async Task In_a_room_without_history_a_reconnection_is_not_recovered_and_nothing_is_replayed()
    {
        await using Connection sender = await ConnectAsync("plain");
        await using Connection witness = await ConnectAsync("plain");
        await using Connection member = await ConnectThroughProxyAsync("plain");
        var onMember = new ConnectionRecorder(member);
        var onWitness = new ConnectionRecorder(witness);
        var recoveredAtReconnect = new WatchedList<bool>();
        member.On(ConnectionEvents.Reconnect, _ => recoveredAtReconnect.Add(member.Recovered));

        await CutOffAsync(onMember);
        sender.Send(1, "n");
        await onWitness.WaitForCountAsync("message:", 1);
        _away = false;
        await recoveredAtReconnect.WaitForAsync(r => r.Count == 1, "the reconnection");
        Assert.Equal([false], recoveredAtReconnect.Items);

        sender.Send(2, "n");
        await onMember.WaitForCountAsync("message:", 1);
        Assert.Equal([2], onMember.Messages.Select(m => m.Data.GetInt32()));
    }

    private Task<Connection> ConnectAsync(string roomId) => new Client(_host.Url).ConnectAsync(roomId).DefaultTimeout();

    /// <summary>A member behind the proxy that reconnects within 50 ms, and whose attempts fail while the test keeps it away.</summary>
    private Task<Connection> ConnectThroughProxyAsync(string roomId)
        => new Client(_proxy.Url.ToString(), new ClientOptions
        {
            ReconnectionDelay = TimeSpan.FromMilliseconds(10),
            ReconnectionDelayMax = TimeSpan.FromMilliseconds(50),
        }).ConnectAsync(roomId, new ConnectOptions
        {
            AuthProvider = _ => _away ? throw new InvalidOperationException("kept away by the test") : ValueTask.FromResult<object?>(null),
        }).DefaultTimeout();

    /// <summary>Resets the member's link and keeps it away until <see cref="_away"/> is cleared; completes once it knows it dropped.</summary>
    private async Task CutOffAsync(ConnectionRecorder member)
    {
        int drops = member.Events.Count(e => e.StartsWith("disconnect:", StringComparison.Ordinal));
        _away = true;
        _proxy.ResetConnections();
        await member.WaitForCountAsync("disconnect:", drops + 1);
    }
}
