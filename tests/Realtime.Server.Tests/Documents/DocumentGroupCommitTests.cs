using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Realtime.Server.Internal.Documents;
using Realtime.TestSupport;

namespace Realtime.Server.Tests.Documents;

/// <summary>
/// Group commit, on the engine itself: submits queued behind a write are prepared one after the other from memory and written with one
/// <see cref="DocumentStore.CommitManyAsync"/>; each is broadcast, then acknowledged, in version order; a refusal in the middle, a group
/// the store refuses, and a resend of an op of the same group each end right. The store holds a write until the test has queued the
/// next submits, so the groups are exactly those the test means.
/// </summary>
public sealed class DocumentGroupCommitTests
{
    private const string Document = "doc";

    private readonly List<string> _events = [];
    private readonly HeldStore _store = new();

    [Fact]
    public async Task Submits_queued_behind_a_write_are_written_as_one_group_each_broadcast_then_acknowledged_in_version_order()
    {
        DocumentEngine engine = Engine(new DocumentOptions());
        await CreateAsync(engine);

        Task<SubmitResult> first = _store.HoldWhile(() => Submit(engine, "a", 1, 1, "a"));
        await _store.Held.DefaultTimeout("the held write");
        Task<SubmitResult> second = Submit(engine, "b", 1, 1, "b");
        Task<SubmitResult> third = Submit(engine, "c", 1, 1, "c");
        _store.Release();
        SubmitResult[] results = await Task.WhenAll(first, second, third).DefaultTimeout("the three submits");

        Assert.Equal([1L, 2L, 3L], results.Select(r => r.Version));
        Assert.Equal([0, 1, 2], results.Select(r => r.TransformedAgainst.Count)); // each against the ones before it
        Assert.Equal([2], _store.Groups); // the first alone (read from the store: nothing active yet), then the two queued behind it together
        Assert.Equal(["broadcast 1", "ack a 1", "broadcast 2", "ack b 2", "broadcast 3", "ack c 3"], Events());
        Assert.Equal(4, (await _store.GetRecordAsync(Document))!.Version);
        Assert.Equal(["a", "b", "c"], await ItemsAsync(engine));
    }

    [Fact]
    public async Task A_submit_refused_in_the_middle_of_a_group_leaves_the_ones_before_it_written_and_the_ones_after_it_applied()
    {
        var options = new DocumentOptions();
        options.Use(DocumentAction.Commit, (context, next) =>
        {
            if (context.Request.TryGetProperty("seq", out JsonElement seq) && seq.GetInt64() == 99)
            {
                context.Reject("not this one");
                return default;
            }

            return next();
        });
        DocumentEngine engine = Engine(options);
        await CreateAsync(engine);

        Task<SubmitResult> held = _store.HoldWhile(() => Submit(engine, "h", 1, 1, "h"));
        await _store.Held.DefaultTimeout("the held write");
        Task<SubmitResult> before = Submit(engine, "a", 1, 1, "a");
        Task<SubmitResult> refused = Submit(engine, "b", 99, 1, "b");
        Task<SubmitResult> after = Submit(engine, "c", 1, 1, "c");
        _store.Release();

        DocumentException error = await Assert.ThrowsAsync<DocumentException>(() => refused.DefaultTimeout("the refusal"));
        Assert.Equal("not this one", error.Message);
        Assert.Equal([1L, 2L, 3L], (await Task.WhenAll(held, before, after).DefaultTimeout("the others")).Select(r => r.Version));
        Assert.Equal(["broadcast 1", "ack h 1", "broadcast 2", "ack a 2", "broadcast 3", "ack c 3"], Events());
        Assert.Equal(["a", "c", "h"], await ItemsAsync(engine));
    }

    [Fact]
    public async Task A_group_the_store_refuses_is_retried_submit_by_submit_after_what_the_other_writer_committed()
    {
        DocumentEngine engine = Engine(new DocumentOptions());
        await CreateAsync(engine);

        Task<SubmitResult> held = _store.HoldWhile(() => Submit(engine, "h", 1, 1, "h"));
        await _store.Held.DefaultTimeout("the held write");
        Task<SubmitResult> a = Submit(engine, "a", 1, 1, "a");
        Task<SubmitResult> b = Submit(engine, "b", 1, 1, "b");
        _store.BeforeNextGroup = async () =>
        {
            // Another node writes version 2 first: the group (versions 2 and 3) is refused whole.
            DocumentRecord record = (await _store.Inner.GetRecordAsync(Document))!;
            DocumentOperation op = new(record.Version, "other", 1, DocumentOperationKind.Op, Encoding.UTF8.GetBytes("""[{"p":["items",0],"li":"o"}]"""));
            Assert.True(await _store.Inner.CommitAsync(Document, new DocumentCommit(op, record.Type, null, null) { Incarnation = record.Incarnation }));
        };
        _store.Release();

        SubmitResult[] results = await Task.WhenAll(held, a, b).DefaultTimeout("the submits");
        Assert.Equal([1L, 3L, 4L], results.Select(r => r.Version));
        Assert.Contains(results[1].TransformedAgainst, op => op.Operation.Source == "other");
        Assert.Equal(5, (await _store.GetRecordAsync(Document))!.Version);
        Assert.Equal(["a", "b", "h", "o"], await ItemsAsync(engine));
    }

    [Fact]
    public async Task A_resend_of_an_op_of_its_own_group_is_not_acknowledged_when_the_group_is_not_written()
    {
        DocumentEngine engine = Engine(new DocumentOptions());
        await CreateAsync(engine);

        Task<SubmitResult> held = _store.HoldWhile(() => Submit(engine, "h", 1, 1, "h"));
        await _store.Held.DefaultTimeout("the held write");
        Task<SubmitResult> original = Submit(engine, "a", 5, 1, "a");
        Task<SubmitResult> resend = Submit(engine, "a", 5, 1, "a");
        _store.FailNextGroup = new IOException("disk full");
        _store.Release();

        await held.DefaultTimeout("the held submit");
        await Assert.ThrowsAsync<IOException>(() => original.DefaultTimeout("the original"));
        SubmitResult again = await resend.DefaultTimeout("the resend");
        Assert.NotNull(again.Committed); // applied now: the original never was
        Assert.Single(await _store.GetOperationsAsync(Document, 0, null), op => op.Source == "a" && op.Sequence == 5);
        Assert.Equal(["a", "h"], await ItemsAsync(engine));
    }

    private DocumentEngine Engine(DocumentOptions options)
    {
        options.Store = _store;
        return new DocumentEngine(options, _store, NullLogger.Instance, (_, message, _) =>
        {
            long version = message.Data.GetProperty("v").GetInt64();
            Record($"broadcast {version}");
        }, TimeProvider.System);
    }

    private async Task CreateAsync(DocumentEngine engine)
    {
        await engine.SubmitAsync(Document, null, Parse("""{"a":5,"seq":1,"v":0,"create":{"type":"json0","data":{"items":[]}}}""", "creator"), null, default);
        lock (_events)
        {
            _events.Clear();
        }
    }

    private Task<SubmitResult> Submit(DocumentEngine engine, string source, long seq, long version, string item)
        => engine.SubmitAsync(Document, null, Parse($$"""{"a":5,"seq":{{seq}},"v":{{version}},"op":[{"p":["items",0],"li":"{{item}}"}]}""", source), result =>
        {
            Record($"ack {source} {result.Version}");
            return default;
        }, default);

    private static SubmitRequest Parse(string json, string source)
        => SubmitRequest.Parse(JsonDocument.Parse(json).RootElement.Clone(), source, new DocumentOptions().Types);

    /// <summary>The document's items as a fetch reads them, sorted (the order concurrent inserts at one index end in is json0's).</summary>
    private static async Task<string[]> ItemsAsync(DocumentEngine engine)
    {
        SnapshotRead read = await engine.ReadSnapshotAsync(Document, null, JsonDocument.Parse("""{"a":0}""").RootElement, default);
        return [.. JsonNode.Parse(read.Data.Span)!["items"]!.AsArray().Select(i => i!.GetValue<string>()).Order(StringComparer.Ordinal)];
    }

    private void Record(string text)
    {
        lock (_events)
        {
            _events.Add(text);
        }
    }

    private string[] Events()
    {
        lock (_events)
        {
            return [.. _events];
        }
    }

    /// <summary>An in-memory store that can hold its next write until released, fail its next group's, or let "another node" write first.</summary>
    private sealed class HeldStore : WrappedDocumentStore
    {
        private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private bool _holding;

        /// <summary>The sizes of the groups written (<see cref="CommitManyAsync"/> calls), in order.</summary>
        public List<int> Groups { get; } = [];

        public Task Held => _held.Task;

        public Func<Task>? BeforeNextGroup { get; set; }

        public Exception? FailNextGroup { get; set; }

        /// <summary>Runs <paramref name="start"/> with the next write held until <see cref="Release"/>.</summary>
        public T HoldWhile<T>(Func<T> start)
        {
            _holding = true;
            return start();
        }

        public void Release() => _release.TrySetResult();

        public override async ValueTask<int> CommitManyAsync(string documentId, IReadOnlyList<DocumentCommit> commits, CancellationToken cancellationToken = default)
        {
            if (!await HoldAsync())
            {
                if (BeforeNextGroup is { } before)
                {
                    BeforeNextGroup = null;
                    await before();
                }
                else if (FailNextGroup is { } failure)
                {
                    FailNextGroup = null;
                    throw failure;
                }
            }

            lock (Groups)
            {
                Groups.Add(commits.Count);
            }

            return await Inner.CommitManyAsync(documentId, commits, cancellationToken);
        }

        public override async ValueTask<bool> CommitAsync(string documentId, DocumentCommit commit, CancellationToken cancellationToken = default)
        {
            await HoldAsync();
            return await Inner.CommitAsync(documentId, commit, cancellationToken);
        }

        /// <summary>Holds this write if one is to be held (<see langword="true"/>) until <see cref="Release"/>.</summary>
        private async Task<bool> HoldAsync()
        {
            if (!_holding)
            {
                return false;
            }

            _holding = false;
            _held.TrySetResult();
            await _release.Task.DefaultTimeout("the test to release the write");
            return true;
        }
    }
}
