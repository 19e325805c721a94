using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Realtime.Shared.Tests.Ot;

/// <summary>
/// The C# OT types against their npm originals (ot-json0 1.1.0, ot-text-unicode 4.0.0, pinned in tests/ot-types): generated documents
/// and pairs of concurrent operations, each applied, transformed both ways and composed by both implementations, and every result
/// compared. Where the original throws, the C# type must throw <see cref="OtException"/>. The seed is printed; set
/// <c>REALTIME_OT_SEED</c> to run a failing seed again.
/// </summary>
public class OtDifferentialTests(ITestOutputHelper output)
{
    private const int CasesPerType = 4000;

    private const string SeedVariable = "REALTIME_OT_SEED";

    [OtTypesNodeFact]
    public void Json0_gives_the_results_of_ot_json0() => Compare("json0", OtTypes.Json0, (generator, random) =>
    {
        JsonNode doc = generator.Json0Document();
        bool invalid = random.Next(20) == 0;
        JsonNode a = invalid ? generator.InvalidJson0Op(doc) : generator.Json0Op(doc);
        JsonNode b = random.Next(40) == 0 ? new JsonArray() : generator.Json0Op(doc);
        return (doc, a, b, Invertible: !invalid);
    });

    [OtTypesNodeFact]
    public void TextUnicode_gives_the_results_of_ot_text_unicode() => Compare("text-unicode", OtTypes.TextUnicode, (generator, random) =>
    {
        string doc = generator.TextDocument();
        JsonArray a = random.Next(20) == 0 ? generator.InvalidTextOp(doc) : generator.TextOp(doc, stringDeletes: random.Next(3) == 0);
        JsonArray b = random.Next(40) == 0 ? [] : generator.TextOp(doc);
        bool invertible = !a.Any(c => c is JsonObject d && d["d"] is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number);
        return (JsonValue.Create(doc), a, b, invertible);
    });

    private void Compare(string typeName, IOtType type, Func<OtCaseGenerator, Random, (JsonNode Doc, JsonNode A, JsonNode B, bool Invertible)> makeCase)
    {
        string? configured = Environment.GetEnvironmentVariable(SeedVariable);
        int seed = configured is null ? Random.Shared.Next() : int.Parse(configured, CultureInfo.InvariantCulture);
        output.WriteLine($"{typeName}: seed {seed}, {CasesPerType} cases ({SeedVariable}={seed} repeats them).");

        var random = new Random(seed);
        var generator = new OtCaseGenerator(random);
        var cases = new JsonArray();
        for (int i = 0; i < CasesPerType; i++)
        {
            (JsonNode doc, JsonNode a, JsonNode b, bool invertible) = makeCase(generator, random);
            var item = new JsonObject { ["type"] = typeName, ["doc"] = doc, ["a"] = a, ["b"] = b };
            if (invertible)
            {
                item["invert"] = true;
            }

            cases.Add(item);
        }

        string folder = Directory.CreateTempSubdirectory("realtime-ot-").FullName;
        try
        {
            string input = Path.Combine(folder, "cases.json");
            string results = Path.Combine(folder, "results.json");
            File.WriteAllText(input, new JsonObject { ["cases"] = cases }.ToJsonString());
            var clock = Stopwatch.StartNew();
            OtTypesNode.RunDriver(input, results, TimeSpan.FromSeconds(60));
            output.WriteLine($"node: {clock.ElapsedMilliseconds} ms");

            JsonArray expected = JsonNode.Parse(File.ReadAllText(results))!["results"]!.AsArray();
            Assert.Equal(cases.Count, expected.Count);
            clock.Restart();
            var failures = new StringBuilder();
            int failed = 0;
            int compared = 0;
            for (int i = 0; i < cases.Count; i++)
            {
                JsonObject item = cases[i]!.AsObject();
                JsonObject js = expected[i]!.AsObject();
                var mismatches = new List<string>();
                foreach ((string name, JsonNode? outcome) in CSharpResults(type, item))
                {
                    if (!js.TryGetPropertyValue(name, out JsonNode? jsOutcome))
                    {
                        continue; // the original did not get that far (an earlier step threw): nothing to compare
                    }

                    compared++;
                    if (!SameOutcome(jsOutcome!.AsObject(), outcome!.AsObject()))
                    {
                        mismatches.Add($"  {name}: js {jsOutcome.ToJsonString()} c# {outcome.ToJsonString()}");
                    }
                }

                if (mismatches.Count > 0 && ++failed <= 15)
                {
                    failures.AppendLine(CultureInfo.InvariantCulture, $"case {i}: doc {item["doc"]?.ToJsonString()} a {item["a"]!.ToJsonString()} b {item["b"]!.ToJsonString()}");
                    failures.AppendLine(string.Join(Environment.NewLine, mismatches));
                }
            }

            output.WriteLine($"c#: {clock.ElapsedMilliseconds} ms, {compared} results compared, {failed} cases differ");
            Assert.True(failed == 0, $"{typeName}, seed {seed}: {failed} of {cases.Count} cases differ from the npm original.{Environment.NewLine}{failures}");
        }
        finally
        {
            if (Environment.GetEnvironmentVariable("REALTIME_OT_KEEP") == "1")
            {
                output.WriteLine($"cases and results kept in {folder}");
            }
            else
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    /// <summary>What the C# type gives for one case, in the driver's shapes (<c>{"v":…}</c> or <c>{"e":…}</c>), under the driver's names.</summary>
    private static IEnumerable<(string Name, JsonNode Outcome)> CSharpResults(IOtType type, JsonObject item)
    {
        JsonNode? doc = item["doc"];
        JsonNode a = item["a"]!;
        JsonNode b = item["b"]!;
        yield return ("applyA", Run(() => type.Apply(doc?.DeepClone(), a)));
        yield return ("applyB", Run(() => type.Apply(doc?.DeepClone(), b)));
        yield return ("left", Run(() => type.Transform(a, b, OtSide.Left)));
        JsonNode right = Run(() => type.Transform(b, a, OtSide.Right));
        yield return ("right", right);
        if (right["v"] is JsonNode transformed)
        {
            JsonNode compose = Run(() => type.Compose(a, transformed));
            yield return ("compose", compose);
            if (compose["v"] is JsonNode composed)
            {
                yield return ("applyComposed", Run(() => type.Apply(doc?.DeepClone(), composed)));
            }
        }

        if (item.ContainsKey("invert"))
        {
            yield return ("invertA", Run(() => type.Invert(a)));
        }
    }

    private static JsonObject Run(Func<JsonNode?> call)
    {
        try
        {
            return new JsonObject { ["v"] = WellFormed(call()) };
        }
        catch (Exception e) when (e is OtException or NotSupportedException)
        {
            return new JsonObject { ["e"] = e.Message };
        }
    }

    /// <summary>A copy with each half of a surrogate pair written <c>&lt;lone:hex&gt;</c>, as the driver writes the original's results
    /// (json0 may split a pair, since its offsets count UTF-16 units; JSON readers refuse such text).</summary>
    private static JsonNode? WellFormed(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.Select(p => KeyValuePair.Create(MarkLone(p.Key), WellFormed(p.Value)))),
        JsonArray list => new JsonArray([.. list.Select(WellFormed)]),
        JsonValue value when value.GetValueKind() == System.Text.Json.JsonValueKind.String => JsonValue.Create(MarkLone(value.GetValue<string>())),
        _ => node?.DeepClone(),
    };

    private static string MarkLone(string text)
    {
        StringBuilder? marked = null;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            bool paired = (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                || (char.IsLowSurrogate(c) && i > 0 && char.IsHighSurrogate(text[i - 1]));
            if (char.IsSurrogate(c) && !paired)
            {
                marked ??= new StringBuilder(text, 0, i, text.Length + 16);
                marked.Append(CultureInfo.InvariantCulture, $"<lone:{(int)c:x}>");
            }
            else
            {
                marked?.Append(c);
            }
        }

        return marked?.ToString() ?? text;
    }

    private static bool SameOutcome(JsonObject js, JsonObject cs)
    {
        if (js.ContainsKey("e") || cs.ContainsKey("e"))
        {
            return js.ContainsKey("e") && cs.ContainsKey("e");
        }

        // Compared as JSON values: key order and number spelling do not matter.
        return JsonNode.DeepEquals(js["v"], cs["v"]);
    }
}
