using System.Text.Json.Nodes;
using CsCheck;

namespace Realtime.Shared.Tests.Ot;

/// <summary>
/// The laws the C# OT types must keep, on generated documents and concurrent operations (numbers exact in binary, so that adding in
/// either order gives one result): convergence (TP1), compose agreeing with applying one operation after the other, and an inverse
/// undoing its operation. A failure reports the generator's seed. Operations are as clients make them (text-unicode ones normalized,
/// json0 string edits in one form: see <see cref="OtCaseGenerator"/> for the original's divergence when <c>si</c> meets <c>t</c>).
/// </summary>
public class OtTypePropertyTests
{
    private const int Iterations = 3000;

    [Fact]
    public void Json0_concurrent_operations_converge_after_transform() => Gen.Int.Sample(seed =>
    {
        var generator = new OtCaseGenerator(new Random(seed), exactNumbers: true, Edits(seed));
        JsonNode doc = generator.Json0Document();
        AssertConverges(OtTypes.Json0, doc, generator.Json0Op(doc), generator.Json0Op(doc));
    }, iter: Iterations);

    [Fact]
    public void TextUnicode_concurrent_operations_converge_after_transform() => Gen.Int.Sample(seed =>
    {
        var generator = new OtCaseGenerator(new Random(seed));
        string doc = generator.TextDocument();
        // As clients send them: normalized (ot-text-unicode puts only the first of two adjacent inserts before a tied insert).
        AssertConverges(OtTypes.TextUnicode, JsonValue.Create(doc), OtTypes.TextUnicode.Normalize(generator.TextOp(doc)), OtTypes.TextUnicode.Normalize(generator.TextOp(doc)));
    }, iter: Iterations);

    [Fact]
    public void Json0_compose_applies_as_both_operations_in_turn() => Gen.Int.Sample(seed =>
    {
        var generator = new OtCaseGenerator(new Random(seed), exactNumbers: true, Edits(seed));
        JsonNode doc = generator.Json0Document();
        JsonNode first = generator.Json0Op(doc);
        JsonNode? middle = OtTypes.Json0.Apply(doc.DeepClone(), first);
        AssertComposes(OtTypes.Json0, doc, first, generator.Json0Op(middle));
    }, iter: Iterations);

    [Fact]
    public void TextUnicode_compose_applies_as_both_operations_in_turn() => Gen.Int.Sample(seed =>
    {
        var generator = new OtCaseGenerator(new Random(seed));
        string doc = generator.TextDocument();
        JsonNode first = generator.TextOp(doc);
        string middle = OtTypes.TextUnicode.Apply(JsonValue.Create(doc), first)!.GetValue<string>();
        AssertComposes(OtTypes.TextUnicode, JsonValue.Create(doc), first, generator.TextOp(middle));
    }, iter: Iterations);

    [Fact]
    public void Json0_inverse_undoes_the_operation() => Gen.Int.Sample(seed =>
    {
        var generator = new OtCaseGenerator(new Random(seed), exactNumbers: true, Edits(seed));
        JsonNode doc = generator.Json0Document();
        AssertInverts(OtTypes.Json0, doc, generator.Json0Op(doc));
    }, iter: Iterations);

    [Fact]
    public void TextUnicode_inverse_undoes_an_operation_whose_deletes_carry_their_text() => Gen.Int.Sample(seed =>
    {
        var generator = new OtCaseGenerator(new Random(seed));
        string doc = generator.TextDocument();
        AssertInverts(OtTypes.TextUnicode, JsonValue.Create(doc), generator.TextOp(doc, stringDeletes: true));
    }, iter: Iterations);

    [Fact]
    public void TransformX_gives_both_transforms() => Gen.Int.Sample(seed =>
    {
        var generator = new OtCaseGenerator(new Random(seed), exactNumbers: true, Edits(seed));
        JsonNode doc = generator.Json0Document();
        JsonNode a = generator.Json0Op(doc);
        JsonNode b = generator.Json0Op(doc);
        (JsonNode left, JsonNode right) = OtTypes.Json0.TransformX(a, b);
        JsonNode? viaA = OtTypes.Json0.Apply(OtTypes.Json0.Apply(doc.DeepClone(), a), right);
        JsonNode? viaB = OtTypes.Json0.Apply(OtTypes.Json0.Apply(doc.DeepClone(), b), left);
        Assert.True(JsonNode.DeepEquals(viaA, viaB), $"doc {doc.ToJsonString()} a {a.ToJsonString()} b {b.ToJsonString()}");
    }, iter: Iterations);

    [Fact]
    public void Json0_transform_against_a_sequence_equals_one_transform_after_the_other() => Gen.Int.Sample(seed =>
    {
        var random = new Random(seed);
        var generator = new OtCaseGenerator(random, exactNumbers: true, Edits(seed));
        JsonNode doc = generator.Json0Document();
        JsonNode op = generator.Json0Op(doc);
        var others = new List<JsonNode>();
        JsonNode? theirs = doc.DeepClone();
        for (int i = random.Next(0, 5); i > 0; i--)
        {
            JsonNode other = random.Next(8) == 0 ? new JsonArray() : generator.Json0Op(theirs);
            others.Add(other);
            theirs = OtTypes.Json0.Apply(theirs, other);
        }

        JsonNode inTurn = op;
        foreach (JsonNode other in others)
        {
            inTurn = OtTypes.Json0.Transform(inTurn, other, OtSide.Left);
        }

        string before = op.ToJsonString();
        JsonNode atOnce = ((Realtime.Internal.Ot.ISequenceTransform)OtTypes.Json0).TransformAgainst(op, others, OtSide.Left);
        Assert.Equal(before, op.ToJsonString()); // the operation is not changed
        Assert.Equal(inTurn.ToJsonString(), atOnce.ToJsonString());
    }, iter: Iterations);

    /// <summary>String edits in one form per case, either form half of the time.</summary>
    private static StringEdits Edits(int seed) => (seed & 1) == 0 ? StringEdits.InsertAndDelete : StringEdits.Subtype;

    private static void AssertConverges(IOtType type, JsonNode doc, JsonNode a, JsonNode b)
    {
        string before = $"{a.ToJsonString()} {b.ToJsonString()}";
        JsonNode aAfterB = type.Transform(a, b, OtSide.Left);
        JsonNode bAfterA = type.Transform(b, a, OtSide.Right);
        Assert.Equal(before, $"{a.ToJsonString()} {b.ToJsonString()}"); // transform changes neither operation
        JsonNode? viaA = type.Apply(type.Apply(doc.DeepClone(), a), bAfterA);
        JsonNode? viaB = type.Apply(type.Apply(doc.DeepClone(), b), aAfterB);
        Assert.True(JsonNode.DeepEquals(viaA, viaB),
            $"doc {doc.ToJsonString()} a {a.ToJsonString()} b {b.ToJsonString()}: a then b' gives {viaA?.ToJsonString()}, b then a' gives {viaB?.ToJsonString()}");
    }

    private static void AssertComposes(IOtType type, JsonNode doc, JsonNode first, JsonNode second)
    {
        JsonNode? inTurn = type.Apply(type.Apply(doc.DeepClone(), first), second);
        JsonNode composed = type.Compose(first, second);
        JsonNode? atOnce = type.Apply(doc.DeepClone(), composed);
        Assert.True(JsonNode.DeepEquals(inTurn, atOnce),
            $"doc {doc.ToJsonString()} first {first.ToJsonString()} second {second.ToJsonString()} composed {composed.ToJsonString()}: {inTurn?.ToJsonString()} vs {atOnce?.ToJsonString()}");
    }

    private static void AssertInverts(IOtType type, JsonNode doc, JsonNode op)
    {
        JsonNode inverse = type.Invert(op);
        JsonNode? back = type.Apply(type.Apply(doc.DeepClone(), op), inverse);
        Assert.True(JsonNode.DeepEquals(doc, back), $"doc {doc.ToJsonString()} op {op.ToJsonString()} inverse {inverse.ToJsonString()} gives {back?.ToJsonString()}");
    }
}
