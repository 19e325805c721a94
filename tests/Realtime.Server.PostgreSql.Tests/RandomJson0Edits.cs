using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Realtime.Client;

namespace Realtime.Server.PostgreSql.Tests;

/// <summary>
/// Random json0 ops on a document that starts as <see cref="InitialData"/>, each awaited (so none is composed with another and each is
/// one version): half inserts of uniquely named items at random places of <c>items</c>, half adds of 1 to 3 to <c>n</c>. It records
/// what was acknowledged, so that the end can be checked: every acknowledged insert in <c>items</c> once, and <c>n</c> the sum of the
/// acknowledged adds (nothing lost, nothing applied twice).
/// </summary>
internal sealed class RandomJson0Edits
{
    /// <summary>The document the ops apply to.</summary>
    public const string InitialData = """{"items":[],"n":0}""";

    private readonly ConcurrentQueue<string> _inserted = new();
    private int _adds;
    private int _added;

    /// <summary>Raised after each acknowledged op, with how many have been acknowledged so far (from any editor).</summary>
    public event Action<int>? Acknowledged;

    /// <summary>The items whose insert was acknowledged.</summary>
    public IReadOnlyCollection<string> Inserted => _inserted;

    /// <summary>How many ops were acknowledged.</summary>
    public int Count => _inserted.Count + Volatile.Read(ref _adds);

    /// <summary>The sum of the acknowledged adds: what <c>n</c> must be.</summary>
    public int Added => Volatile.Read(ref _added);

    /// <summary>Editor <paramref name="editor"/> (its random seed and its items' prefix) submits <paramref name="ops"/> ops to
    /// <paramref name="doc"/>, one after another.</summary>
    public async Task RunAsync(SharedDocument doc, int editor, int ops)
    {
        var random = new Random(editor);
        for (int i = 0; i < ops; i++)
        {
            if (random.Next(2) == 0)
            {
                string item = $"e{editor}-{i}";
                int length = doc.Data!["items"]!.AsArray().Count;
                await doc.SubmitOpAsync(JsonNode.Parse($$"""[{"p":["items",{{random.Next(length + 1)}}],"li":"{{item}}"}]""")!);
                _inserted.Enqueue(item);
            }
            else
            {
                int add = 1 + random.Next(3);
                await doc.SubmitOpAsync(JsonNode.Parse($$"""[{"p":["n"],"na":{{add}}}]""")!);
                Interlocked.Add(ref _added, add);
                Interlocked.Increment(ref _adds);
            }

            Acknowledged?.Invoke(Count);
        }
    }

    /// <summary>Asserts that <paramref name="data"/> holds every acknowledged insert once (and nothing else) and the acknowledged adds.</summary>
    public void AssertAllIn(JsonNode data)
    {
        string[] items = [.. data["items"]!.AsArray().Select(i => i!.GetValue<string>())];
        Assert.Equal(Inserted.Order(StringComparer.Ordinal), items.Order(StringComparer.Ordinal));
        Assert.Equal(Added, data["n"]!.GetValue<double>()); // json0's adds make a double
    }
}
