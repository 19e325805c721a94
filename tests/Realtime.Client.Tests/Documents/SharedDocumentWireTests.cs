using System.Text.Json;
using System.Text.Json.Nodes;
using Realtime.TestSupport;

namespace Realtime.Client.Tests.Documents;

/// <summary>
/// <see cref="SharedDocument"/> over real sockets against a server scripted by hand (js-collaboration-features.md §3.10): the ot-doc
/// messages as the server receives them, and the document through a reconnection whose ack was lost.
/// </summary>
public class SharedDocumentWireTests
{
    private const string FirstId = "C0000000000000000000"; // the scripted server's id of its first connection

    private static ClientOptions Fast => new()
    {
        ReconnectionDelay = TimeSpan.FromMilliseconds(10),
        ReconnectionDelayMax = TimeSpan.FromMilliseconds(50),
    };

    [Fact]
    public async Task An_op_whose_ack_was_lost_is_resent_with_its_src_after_the_reconnection_and_counted_once()
    {
        var received = new WatchedList<string>();
        await using ScriptedServer server = await ScriptedServer.StartAsync(async c =>
        {
            await c.WelcomeAsync();
            if (c.Index == 0)
            {
                received.Add("0 " + DataOf(await c.ReceiveTextAsync()));
                await c.SendAsync(Doc("""{"a":3,"data":{"id":"room1","v":1,"type":"urn:test:counter","data":0}}"""));
                received.Add("0 " + DataOf(await c.ReceiveTextAsync()));
                await c.GoAwayAsync(); // the op was committed; its ack is lost
            }
            else
            {
                received.Add("1 " + DataOf(await c.ReceiveTextAsync()));
                received.Add("1 " + DataOf(await c.ReceiveTextAsync()));
                await c.SendAsync(Doc($$"""{"a":5,"v":1,"src":"{{FirstId}}","seq":1,"op":1}""")); // from the subscribe: the ack
                await c.SendAsync(Doc("""{"a":3}"""));
                await c.SendAsync(Doc($$"""{"src":"{{FirstId}}","seq":1,"v":1,"a":5}""")); // the resend's "already submitted" ack
                await c.SendAsync(Doc("""{"a":5,"v":2,"src":"other","seq":7,"op":10}"""));
            }
        });
        await using Connection connection = await new Client(server.Url, Fast).ConnectAsync("room1").DefaultTimeout();
        using var doc = new SharedDocument(connection, CounterType.Instance);
        var events = new WatchedList<string>();
        doc.On(SharedDocumentEvents.Op, e => events.Add($"op:{e.Op.ToJsonString()} {(e.IsLocal ? "local" : "remote")}"));
        doc.On(SharedDocumentEvents.Load, v => events.Add($"load:{v}"));

        await doc.SubscribeAsync().DefaultTimeout();
        Assert.Equal(1, doc.Version);
        await doc.SubmitOpAsync(JsonValue.Create(1)).DefaultTimeout();
        await events.WaitForAsync(e => e.Contains("op:10 remote"), "the remote op after the reconnection");

        Assert.Equal("11", doc.Data!.ToJsonString());
        Assert.Equal(3, doc.Version);
        Assert.False(doc.HasPendingOps);
        Assert.Equal(["load:1", "op:1 local", "op:10 remote"], events.Items);
        string op = $$"""{"a":5,"v":1,"src":"{{FirstId}}","seq":1,"x":{},"op":1}""";
        Assert.Equal(["""0 {"a":3}""", "0 " + op, "1 " + op, """1 {"a":3,"v":1}"""], received.Items);
    }

    [Fact]
    public async Task A_refusal_rolls_back_and_raises_error_on_the_dispatcher_and_other_message_types_are_left_alone()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync(async c =>
        {
            await c.WelcomeAsync();
            await c.ReceiveTextAsync(); // fetch
            await c.SendAsync(Doc("""{"a":0,"data":{"id":"room1","v":4,"type":"urn:test:counter","data":5}}"""));
            JsonNode submitted = JsonNode.Parse(DataOf(await c.ReceiveTextAsync()))!;
            submitted["error"] = new JsonObject { ["code"] = 1000, ["message"] = "Forbidden" };
            await c.SendAsync(Message.Create(new { a = 0 }, "not-ot-doc"));
            await c.SendAsync(Doc(submitted.ToJsonString()));
        });
        await using Connection connection = await new Client(server.Url, Fast).ConnectAsync("room1").DefaultTimeout();
        using var doc = new SharedDocument(connection, [OtTypes.Json0, CounterType.Instance]);
        var errors = new WatchedList<string>();
        doc.On(SharedDocumentEvents.Error, e => errors.Add(e.Message));

        await doc.FetchAsync().DefaultTimeout();
        Assert.Same(CounterType.Instance, doc.Type);
        SharedDocumentException refused = await Assert.ThrowsAsync<SharedDocumentException>(() => doc.SubmitOpAsync(JsonValue.Create(3)).DefaultTimeout());
        Assert.Equal(1000, refused.Code);
        await errors.WaitForAsync(e => e.Count == 1, "the error event");
        Assert.Equal("5", doc.Data!.ToJsonString());
        Assert.Equal(4, doc.Version);
    }

    private static Message Doc(string json) => new(DocumentWireName, JsonDocument.Parse(json).RootElement);

    private const string DocumentWireName = "ot-doc";

    /// <summary>The data of a client's message frame, asserting that it is an ot-doc message whose data is an object.</summary>
    private static string DataOf(string frame)
    {
        JsonNode parsed = JsonNode.Parse(frame)!;
        Assert.Equal("ot-doc", parsed["type"]!.GetValue<string>());
        Assert.IsType<JsonObject>(parsed["data"]);
        return parsed["data"]!.ToJsonString();
    }
}
