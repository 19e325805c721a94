using System.Text.Json;
using Realtime.Protocol;
using Realtime.TestSupport;

namespace Realtime.Client.Tests;

/// <summary>
/// Recovery after a brief drop, as the client speaks it (docs/protocol.md §3.1), against a server scripted by hand on real Kestrel:
/// what each hello offers, what the client keeps of the welcome and of each message, how it reads the server's answer.
/// </summary>
public class RecoveryWireTests
{
    /// <summary>Reconnects within 50 ms.</summary>
    private static ClientOptions Fast => new()
    {
        ReconnectionDelay = TimeSpan.FromMilliseconds(10),
        ReconnectionDelayMax = TimeSpan.FromMilliseconds(50),
    };

    [Fact]
    public async Task The_first_hello_asks_for_recovery_and_offers_nothing_and_the_first_connection_is_not_recovered()
    {
        // A room with history: the welcome issues a token and a position, and no "recovered" (the hello offered no token).
        await using ScriptedServer server = await ScriptedServer.StartAsync(c => c.WelcomeAsync(resume: "token-0", pos: "ep0ch:7"));
        await using Connection connection = await new Client(server.Url, Fast).ConnectAsync("room1").DefaultTimeout();

        Assert.Equal("""{"t":"hello","recover":true}""", server.Hellos.Items[0]);
        Frame hello = await server.HelloAsync(0);
        Assert.True(hello.Recover);
        Assert.Null(hello.ResumeToken);
        Assert.Null(hello.Position);
        Assert.False(connection.Recovered);
    }

    [Fact]
    public async Task A_reconnection_offers_the_welcomes_token_and_position_when_no_message_came_after_it()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync(c => c.Index switch
        {
            0 => GoAwayAfter(c.WelcomeAsync(resume: "token-0", pos: "ep0ch:5"), c),
            _ => c.WelcomeAsync(),
        });
        await using Connection connection = new Client(server.Url, Fast).Connect("room1");

        Frame hello = await server.HelloAsync(1);
        Assert.True(hello.Recover);
        Assert.Equal("token-0", hello.ResumeToken);
        Assert.Equal("ep0ch:5", hello.Position);
        Assert.Equal("""{"t":"hello","recover":true,"resume":"token-0","pos":"ep0ch:5"}""", server.Hellos.Items[1]);
    }

    [Fact]
    public async Task A_reconnection_offers_the_position_of_the_last_positioned_message_text_or_binary_and_a_message_without_one_moves_nothing()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync(async c =>
        {
            switch (c.Index)
            {
                case 0:
                    await c.WelcomeAsync(resume: "token-0", pos: "ep0ch:0");
                    await c.SendAsync(Message.Create(1, "n"), "ep0ch:1");
                    await c.SendAsync(new Message("b", new byte[] { 2 }), "ep0ch:2");
                    await c.SendAsync(Message.Create("to you alone", "direct")); // a direct send: no position
                    await c.GoAwayAsync();
                    break;
                case 1:
                    await c.WelcomeAsync(resume: "token-1", pos: "ep0ch:2", recovered: true);
                    await c.SendAsync(Message.Create(3, "n"), "ep0ch:3");
                    await c.SendAsync(new Message("b", new byte[] { 4 }), "ep0ch:4");
                    await c.GoAwayAsync();
                    break;
                default:
                    await c.WelcomeAsync();
                    break;
            }
        });
        await using Connection connection = new Client(server.Url, Fast).Connect("room1");
        var recorder = new ConnectionRecorder(connection);

        Frame second = await server.HelloAsync(1);
        Assert.Equal(("token-0", "ep0ch:2"), (second.ResumeToken, second.Position));
        Frame third = await server.HelloAsync(2);
        Assert.Equal(("token-1", "ep0ch:4"), (third.ResumeToken, third.Position));

        await recorder.WaitForCountAsync("message:", 5);
        Assert.Equal(["message:n", "message:b", "message:direct", "message:n", "message:b"], recorder.Events.Where(e => e.StartsWith("message:", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_token_is_offered_once_the_next_welcome_replaces_it_and_a_welcome_without_one_leaves_nothing_to_offer()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync(c => c.Index switch
        {
            0 => GoAwayAfter(c.WelcomeAsync(resume: "token-0", pos: "ep0ch:1"), c),
            1 => GoAwayAfter(c.WelcomeAsync(resume: "token-1", pos: "ep0ch:4", recovered: false), c),
            2 => GoAwayAfter(c.WelcomeAsync(recovered: false), c), // the room no longer keeps a history
            _ => c.WelcomeAsync(),
        });
        await using Connection connection = new Client(server.Url, Fast).Connect("room1");

        Frame second = await server.HelloAsync(1);
        Assert.Equal(("token-0", "ep0ch:1"), (second.ResumeToken, second.Position));
        Frame third = await server.HelloAsync(2);
        Assert.Equal(("token-1", "ep0ch:4"), (third.ResumeToken, third.Position));
        Frame fourth = await server.HelloAsync(3);
        Assert.True(fourth.Recover);
        Assert.Equal((null, null), (fourth.ResumeToken, fourth.Position));
        Assert.Equal("""{"t":"hello","recover":true}""", server.Hellos.Items[3]);
    }

    [Fact]
    public async Task An_attempt_that_fails_before_its_welcome_leaves_the_offer_to_the_next_attempt()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync(c => c.Index switch
        {
            0 => GoAwayAfter(c.WelcomeAsync(resume: "token-0", pos: "ep0ch:3"), c),
            1 => c.GoAwayAsync(), // closed during the handshake: the attempt fails
            _ => c.WelcomeAsync(),
        });
        await using Connection connection = new Client(server.Url, Fast).Connect("room1");
        var recorder = new ConnectionRecorder(connection);

        foreach (int index in new[] { 1, 2 })
        {
            Frame hello = await server.HelloAsync(index);
            Assert.Equal(("token-0", "ep0ch:3"), (hello.ResumeToken, hello.Position));
        }

        await recorder.WaitForEventAsync("reconnect:2");
        Assert.Contains("error", recorder.Events);
    }

    [Fact]
    public async Task Recovered_follows_each_answer_of_the_server_and_is_set_before_Reconnect_and_Connect_are_raised()
    {
        TaskCompletionSource[] proceed = [.. Enumerable.Range(0, 3).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously))];
        await using ScriptedServer server = await ScriptedServer.StartAsync(async c =>
        {
            switch (c.Index)
            {
                case 0:
                    await c.WelcomeAsync(resume: "token-0", pos: "ep0ch:0");
                    break;
                case 1: // everything missed follows
                    await c.WelcomeAsync(resume: "token-1", pos: "ep0ch:0", recovered: true);
                    await c.SendAsync(Message.Create(1, "replayed"), "ep0ch:1");
                    await c.SendAsync(Message.Create(2, "replayed"), "ep0ch:2");
                    break;
                case 2: // too much was missed
                    await c.WelcomeAsync(resume: "token-2", pos: "ep0ch:9", recovered: false);
                    await c.SendAsync(Message.Create(10, "new"), "ep0ch:10");
                    break;
                default: // a server without recovery: no field at all
                    await c.WelcomeAsync();
                    return;
            }

            await proceed[c.Index].Task.DefaultTimeout("the test to let the connection go");
            await c.GoAwayAsync();
        });
        await using Connection connection = new Client(server.Url, Fast).Connect("room1");
        var seen = new WatchedList<string>();
        connection.On(ConnectionEvents.Reconnect, _ => seen.Add($"reconnect:{connection.Recovered}"));
        connection.On(ConnectionEvents.Connect, () => seen.Add($"connect:{connection.Recovered}"));
        connection.On(ConnectionEvents.Message, m => seen.Add($"{m.Type}:{m.Data.GetInt32()}"));

        string[] expected =
        [
            "connect:False",
            "reconnect:True", "connect:True", "replayed:1", "replayed:2",
            "reconnect:False", "connect:False", "new:10",
            "reconnect:False", "connect:False",
        ];
        int[] stepEnds = [1, 5, 8, 10];
        for (int step = 0; step < stepEnds.Length; step++)
        {
            int count = stepEnds[step];
            await seen.WaitForAsync(items => items.Count >= count, $"{count} events");
            Assert.Equal(expected[..count], seen.Items);
            if (step < proceed.Length)
            {
                proceed[step].SetResult();
            }
        }

        Frame last = await server.HelloAsync(3);
        Assert.Equal(("token-2", "ep0ch:10"), (last.ResumeToken, last.Position));
    }

    [Fact]
    public async Task Positioned_binary_and_text_messages_arrive_as_ordinary_messages()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync(async c =>
        {
            await c.WelcomeAsync(resume: "token-0", pos: "ep0ch:0");
            await c.SendAsync(new Message("blob", new byte[] { 1, 2, 3 }), "ep0ch:1");
            await c.SendAsync(new Message(null, new byte[] { 4 }), "ep0ch:2");
            await c.SendAsync(new Message("empty", ReadOnlyMemory<byte>.Empty), "ep0ch:3");
            await c.SendAsync(Message.Create(new { text = "hi" }, "doc"), "ep0ch:4");
            await c.SendAsync(Message.Create(new { text = "hi" }), "ep0ch:5");
        });
        await using Connection connection = new Client(server.Url, Fast).Connect("room1");
        var recorder = new ConnectionRecorder(connection);

        await recorder.WaitForCountAsync("message:", 5);
        Message[] messages = [.. recorder.Messages];
        Assert.All(messages[..3], m => Assert.True(m.IsBinary));
        Assert.Equal([("blob", "010203"), (null, "04"), ("empty", "")], messages[..3].Select(m => (m.Type, Convert.ToHexString(m.Bytes.Span))));
        Assert.All(messages[3..], m => Assert.False(m.IsBinary));
        Assert.Equal([("doc", """{"text":"hi"}"""), (null, """{"text":"hi"}""")], messages[3..].Select(m => (m.Type, JsonSerializer.Serialize(m.Data))));
    }

    [Fact]
    public async Task Messages_sent_while_offline_are_flushed_after_a_recovered_welcome_and_its_replay_arrives_as_messages()
    {
        var letGo = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var welcomeNow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var flushed = new TaskCompletionSource<string[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using ScriptedServer server = await ScriptedServer.StartAsync(async c =>
        {
            if (c.Index == 0)
            {
                await c.WelcomeAsync(resume: "token-0", pos: "ep0ch:0");
                await letGo.Task.DefaultTimeout("the test to let the connection go");
                await c.GoAwayAsync();
                return;
            }

            await welcomeNow.Task.DefaultTimeout("the test to let the reconnection complete"); // hello read, welcome held back
            await c.WelcomeAsync(resume: "token-1", pos: "ep0ch:0", recovered: true);
            await c.SendAsync(Message.Create(1, "missed"), "ep0ch:1");
            flushed.SetResult([await c.ReceiveTextAsync(), await c.ReceiveTextAsync()]);
        });
        await using Connection connection = await new Client(server.Url, Fast).ConnectAsync("room1").DefaultTimeout();
        var recorder = new ConnectionRecorder(connection);

        letGo.SetResult();
        await server.HelloAsync(1); // the reconnection waits for its welcome: the client is offline
        Assert.False(connection.Connected);
        connection.Send(1, "offline");
        await connection.SendAsync(2, "offline");
        welcomeNow.SetResult();

        Assert.Equal(["""{"t":"msg","type":"offline","data":1}""", """{"t":"msg","type":"offline","data":2}"""], await flushed.Task.DefaultTimeout("the buffered messages"));
        await recorder.WaitForEventAsync("message:missed");
        Assert.True(connection.Recovered);
    }

    private static async Task GoAwayAfter(Task welcome, ScriptedConnection connection)
    {
        await welcome;
        await connection.GoAwayAsync();
    }
}
