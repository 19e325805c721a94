using System.Globalization;
using System.Text.Json.Nodes;
using Realtime.Server;
using Realtime.Testing;
using Realtime.TestSupport;

namespace Realtime.Client.Tests.Documents;

/// <summary>The C# shared document against the server's documents (UseDocuments, json0) on real Kestrel at 127.0.0.1.</summary>
public sealed class SharedDocumentTests : IAsyncLifetime
{
    private KestrelRealtimeHost _host = null!;

    public async Task InitializeAsync() => _host = await KestrelRealtimeHost.StartAsync(configureServer: server => server.UseDocuments(o =>
    {
        o.MaxOpsPerSecond = 10_000;
        o.AddType(OtTypes.TextUnicode);
        o.Use(DocumentAction.Submit, async (context, next) =>
        {
            string request = context.Request.GetRawText();
            if (request.Contains("forbidden", StringComparison.Ordinal))
            {
                context.Reject("Forbidden");
            }
            else if (request.Contains("silently", StringComparison.Ordinal))
            {
                context.Reject(19, "Op submit rejected");
            }
            else
            {
                await next();
            }
        });
    }));

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Two_documents_converge_under_concurrent_edits_and_a_fresh_fetch_agrees()
    {
        await using Connection a = await ConnectAsync();
        await using Connection b = await ConnectAsync();
        using var docA = new SharedDocument(a, OtTypes.Json0);
        using var docB = new SharedDocument(b, OtTypes.Json0);
        var changes = new WatchedList<string>();
        docA.On(SharedDocumentEvents.Op, e => changes.Add("A " + e.Op.ToJsonString()));
        docB.On(SharedDocumentEvents.Op, e => changes.Add("B " + e.Op.ToJsonString()));
        docB.On(SharedDocumentEvents.Create, local => changes.Add("B create"));
        await docA.SubscribeAsync().DefaultTimeout();
        await docB.SubscribeAsync().DefaultTimeout();
        Assert.Equal(0, docA.Version);

        await docA.CreateAsync(JsonNode.Parse("""{"list":[],"text":"","n":0}""")).DefaultTimeout();
        await changes.WaitForAsync(e => e.Contains("B create"), "B to see the create");

        // Both edit at once, without waiting for each other: inserts at the same places, text at the same offset, numbers.
        var submits = new List<Task>();
        for (int i = 0; i < 15; i++)
        {
            submits.Add(docA.SubmitOpAsync(Op($$"""[{"p":["list",0],"li":"a{{i}}"},{"p":["text",0],"si":"a"},{"p":["n"],"na":1}]""")));
            submits.Add(docB.SubmitOpAsync(Op($$"""[{"p":["list",0],"li":"b{{i}}"},{"p":["text",0],"si":"b"},{"p":["n"],"na":100}]""")));
        }

        await Task.WhenAll(submits).DefaultTimeout();
        await changes.WaitForAsync(_ => Settled(docA, docB), "both documents at one version with nothing pending");

        string data = docA.Data!.ToJsonString();
        Assert.Equal(data, docB.Data!.ToJsonString());
        Assert.Equal(1515, Number(docA.Data!["n"]));
        Assert.Equal(30, docA.Data!["text"]!.GetValue<string>().Length);
        Assert.Equal(Enumerable.Range(0, 15).Select(i => $"a{i}").Concat(Enumerable.Range(0, 15).Select(i => $"b{i}")).Order(StringComparer.Ordinal),
                     docA.Data!["list"]!.AsArray().Select(n => n!.GetValue<string>()).Order(StringComparer.Ordinal));

        await using Connection c = await ConnectAsync();
        using var docC = new SharedDocument(c, OtTypes.Json0);
        await docC.FetchAsync().DefaultTimeout();
        Assert.Equal(data, docC.Data!.ToJsonString());
        Assert.Equal(docA.Version, docC.Version);
    }

    [Fact]
    public async Task A_refused_op_is_rolled_back_with_an_error_a_silent_refusal_without_and_the_op_queued_behind_goes_through()
    {
        await using Connection a = await ConnectAsync();
        await using Connection b = await ConnectAsync();
        using var docA = new SharedDocument(a, OtTypes.Json0);
        using var docB = new SharedDocument(b, OtTypes.Json0);
        var errors = new WatchedList<string>();
        var opsOnB = new WatchedList<string>();
        docA.On(SharedDocumentEvents.Error, e => errors.Add(e.Message));
        docB.On(SharedDocumentEvents.Op, e => opsOnB.Add(e.Op.ToJsonString()));
        await docA.SubscribeAsync().DefaultTimeout();
        await docB.SubscribeAsync().DefaultTimeout();
        await docA.CreateAsync(JsonNode.Parse("""{"s":"ok","list":[]}""")).DefaultTimeout();

        Task refused = docA.SubmitOpAsync(Op("""[{"p":["s"],"od":"ok","oi":"forbidden"}]"""));
        Task queued = docA.SubmitOpAsync(Op("""[{"p":["list",0],"li":1}]"""));
        Assert.Equal("forbidden", docA.Data!["s"]!.GetValue<string>()); // applied locally at once
        SharedDocumentException error = await Assert.ThrowsAsync<SharedDocumentException>(() => refused.DefaultTimeout());
        Assert.Equal((1000, "Forbidden"), (error.Code, error.Message));
        await queued.DefaultTimeout();
        await errors.WaitForAsync(e => e.Count == 1, "the error event");
        Assert.Equal("""{"s":"ok","list":[1]}""", docA.Data!.ToJsonString());

        await docA.SubmitOpAsync(Op("""[{"p":["s"],"od":"ok","oi":"silently"}]""")).DefaultTimeout(); // code 19: completes
        Assert.Equal("""{"s":"ok","list":[1]}""", docA.Data!.ToJsonString());
        await docA.SubmitOpAsync(Op("""[{"p":["list",1],"li":2}]""")).DefaultTimeout();
        await opsOnB.WaitForAsync(e => e.Count == 2, "B to get both accepted ops");
        Assert.Equal(["""[{"p":["list",0],"li":1}]""", """[{"p":["list",1],"li":2}]"""], opsOnB.Items);
        Assert.Equal(docA.Data!.ToJsonString(), docB.Data!.ToJsonString());
        Assert.Equal(["Forbidden"], errors.Items);
    }

    [Fact]
    public async Task Through_a_reconnection_the_document_keeps_its_ops_and_the_server_applies_each_once()
    {
        await using FaultProxy proxy = await FaultProxy.StartAsync(new Uri(_host.Url));
        await using Connection a = await ConnectAsync();
        bool away = false; // while set, B's reconnection attempts fail at once
        await using Connection b = await ConnectAsync(proxy.Url, new ConnectOptions
        {
            AuthProvider = _ => Volatile.Read(ref away) ? throw new InvalidOperationException("away") : ValueTask.FromResult<object?>(null),
        });
        var lifecycleB = new ConnectionRecorder(b);
        using var docA = new SharedDocument(a, OtTypes.Json0);
        using var docB = new SharedDocument(b, OtTypes.Json0);
        var changes = new WatchedList<string>();
        docA.On(SharedDocumentEvents.Op, e => changes.Add("A " + e.Op.ToJsonString()));
        docB.On(SharedDocumentEvents.Op, e => changes.Add("B " + e.Op.ToJsonString()));
        await docA.SubscribeAsync().DefaultTimeout();
        await docB.SubscribeAsync().DefaultTimeout();
        await docA.CreateAsync(JsonNode.Parse("""{"n":0,"list":[]}""")).DefaultTimeout();
        await docB.FetchAsync().DefaultTimeout();

        // B's op reaches the server and is committed, but its ack never comes back.
        proxy.Blackhole(FaultDirection.ServerToClient);
        Task lostAck = docB.SubmitOpAsync(Op("""[{"p":["n"],"na":1},{"p":["list",0],"li":"b1"}]"""));
        await changes.WaitForAsync(e => e.Contains("""A [{"p":["n"],"na":1},{"p":["list",0],"li":"b1"}]"""), "A to get B's op");

        // B drops and stays away; it edits offline, and A edits meanwhile.
        Volatile.Write(ref away, true);
        proxy.ResetConnections();
        await lifecycleB.WaitForEventAsync("reconnectAttempt:1");
        proxy.Heal();
        Task offline1 = docB.SubmitOpAsync(Op("""[{"p":["n"],"na":2}]"""));
        Task offline2 = docB.SubmitOpAsync(Op("""[{"p":["list",0],"li":"b2"}]"""));
        await docA.SubmitOpAsync(Op("""[{"p":["n"],"na":10},{"p":["list",0],"li":"a1"}]""")).DefaultTimeout();
        Assert.False(lostAck.IsCompleted);

        Volatile.Write(ref away, false);
        await Task.WhenAll(lostAck, offline1, offline2).DefaultTimeout();
        await changes.WaitForAsync(_ => Settled(docA, docB), "both documents at one version with nothing pending");

        Assert.Equal(docA.Data!.ToJsonString(), docB.Data!.ToJsonString());
        Assert.Equal(13, Number(docA.Data!["n"]));
        Assert.Equal(["a1", "b1", "b2"], docA.Data!["list"]!.AsArray().Select(n => n!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.True(docB.Subscribed);

        // Subscribed again: A's next op reaches B.
        await docA.SubmitOpAsync(Op("""[{"p":["n"],"na":100}]""")).DefaultTimeout();
        await changes.WaitForAsync(e => e.Contains("""B [{"p":["n"],"na":100}]"""), "B to get A's op after the reconnection");
        Assert.Equal(113, Number(docB.Data!["n"]));
    }

    [Fact]
    public async Task History_snapshots_restore_and_delete_reach_the_other_document()
    {
        await using Connection a = await ConnectAsync();
        await using Connection b = await ConnectAsync();
        using var docA = new SharedDocument(a, OtTypes.Json0);
        using var docB = new SharedDocument(b, OtTypes.Json0);
        var onB = new WatchedList<string>();
        docB.On(SharedDocumentEvents.Restore, local => onB.Add("restore"));
        docB.On(SharedDocumentEvents.Delete, local => onB.Add("del"));
        await docB.SubscribeAsync().DefaultTimeout();
        await docA.FetchAsync().DefaultTimeout();
        await docA.CreateAsync(JsonNode.Parse("""{"n":1}""")).DefaultTimeout();
        await docA.SubmitOpAsync(Op("""[{"p":["n"],"na":1}]""")).DefaultTimeout();
        await docA.SubmitOpAsync(Op("""[{"p":["n"],"na":1}]""")).DefaultTimeout();
        Assert.Equal(3, docA.Version);

        SharedDocumentSnapshot first = await docA.FetchHistorySnapshotAsync(1).DefaultTimeout();
        Assert.Equal((1L, OtTypes.Json0.Uri, """{"n":1}"""), (first.Version, first.TypeUri, first.Data!.ToJsonString()));
        SharedDocumentSnapshot none = await docA.FetchHistorySnapshotAsync(0).DefaultTimeout();
        Assert.Null(none.TypeUri);
        Assert.Equal(17, (await Assert.ThrowsAsync<SharedDocumentException>(() => docA.FetchHistorySnapshotAsync(10).DefaultTimeout())).Code);

        await docA.RestoreAsync(1).DefaultTimeout();
        Assert.Equal("""{"n":1}""", docA.Data!.ToJsonString());
        await onB.WaitForAsync(e => e.Contains("restore"), "B to see the restore");
        Assert.Equal("""{"n":1}""", docB.Data!.ToJsonString());
        Assert.Equal(4, docB.Version);

        await docA.DeleteAsync().DefaultTimeout();
        await onB.WaitForAsync(e => e.Contains("del"), "B to see the delete");
        Assert.Null(docB.Type);
        Assert.Null(docB.Data);
    }

    [Fact]
    public async Task Text_documents_converge_on_concurrent_inserts_at_one_place_with_offsets_in_code_points()
    {
        await using Connection a = await ConnectAsync();
        await using Connection b = await ConnectAsync();
        using var docA = new SharedDocument(a, [OtTypes.Json0, OtTypes.TextUnicode]);
        using var docB = new SharedDocument(b, [OtTypes.Json0, OtTypes.TextUnicode]);
        var changes = new WatchedList<string>();
        docA.On(SharedDocumentEvents.Op, e => changes.Add("A"));
        docB.On(SharedDocumentEvents.Op, e => changes.Add("B"));
        docB.On(SharedDocumentEvents.Create, local => changes.Add("B create"));
        await docA.SubscribeAsync().DefaultTimeout();
        await docB.SubscribeAsync().DefaultTimeout();
        await docA.CreateAsync(JsonValue.Create("\U0001F600 hello"), OtTypes.TextUnicode).DefaultTimeout();
        await changes.WaitForAsync(e => e.Contains("B create"), "B to see the create");
        Assert.Same(OtTypes.TextUnicode, docB.Type);

        Task fromA = docA.SubmitOpAsync(JsonNode.Parse("""[2,"A"]""")!); // after the emoji (one code point) and the space
        Task fromB = docB.SubmitOpAsync(JsonNode.Parse("""[2,"B"]""")!);
        await Task.WhenAll(fromA, fromB).DefaultTimeout();
        await changes.WaitForAsync(_ => Settled(docA, docB), "both documents at one version with nothing pending");
        string text = docA.Data!.GetValue<string>();
        Assert.True(text is "\U0001F600 ABhello" or "\U0001F600 BAhello", text);
    }

    private static bool Settled(SharedDocument x, SharedDocument y)
        => !x.HasPendingOps && !y.HasPendingOps && x.Version == y.Version && x.Data!.ToJsonString() == y.Data!.ToJsonString();

    private static JsonNode Op(string json) => JsonNode.Parse(json)!;

    private static double Number(JsonNode? node) => double.Parse(node!.ToJsonString(), CultureInfo.InvariantCulture);

    private Task<Connection> ConnectAsync(Uri? url = null, ConnectOptions? options = null)
        => new Client((url ?? new Uri(_host.Url)).ToString(), new ClientOptions
        {
            ReconnectionDelay = TimeSpan.FromMilliseconds(20),
            ReconnectionDelayMax = TimeSpan.FromMilliseconds(50),
        }).ConnectAsync("room1", options).DefaultTimeout();
}
