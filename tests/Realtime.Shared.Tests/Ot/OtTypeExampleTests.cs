using System.Text.Json.Nodes;

namespace Realtime.Shared.Tests.Ot;

/// <summary>
/// The rules that matter most, one example each, with the result ot-json0 1.1.0 / ot-text-unicode 4.0.0 give (checked with them):
/// ties by side, deletes against inserts at one index, moves, replaces, number adds in doubles, UTF-16 offsets in json0 and code
/// points in text-unicode, composition and inversion. The differential tests cover the rest; these run without Node.js.
/// </summary>
public class OtTypeExampleTests
{
    [Theory]
    // json0 lists: a tie of inserts goes to the left side; a delete moves past an insert at its index; an insert at a deleted
    // index stays; two deletes of one element delete it once.
    [InlineData("json0", """[{"p":["l",1],"li":"x"}]""", """[{"p":["l",1],"li":"y"}]""", "left", """[{"p":["l",1],"li":"x"}]""")]
    [InlineData("json0", """[{"p":["l",1],"li":"x"}]""", """[{"p":["l",1],"li":"y"}]""", "right", """[{"p":["l",2],"li":"x"}]""")]
    [InlineData("json0", """[{"p":["l",1],"ld":"b"}]""", """[{"p":["l",1],"li":"y"}]""", "left", """[{"p":["l",2],"ld":"b"}]""")]
    [InlineData("json0", """[{"p":["l",1],"li":"y"}]""", """[{"p":["l",1],"ld":"b"}]""", "left", """[{"p":["l",1],"li":"y"}]""")]
    [InlineData("json0", """[{"p":["l",1],"ld":"b"}]""", """[{"p":["l",1],"ld":"b"}]""", "left", "[]")]
    // Moves: both move one element, the left move wins from where the other put it; an edit follows its element.
    [InlineData("json0", """[{"p":["l",0],"lm":2}]""", """[{"p":["l",0],"lm":1}]""", "left", """[{"p":["l",1],"lm":2}]""")]
    [InlineData("json0", """[{"p":["l",0],"lm":2}]""", """[{"p":["l",0],"lm":1}]""", "right", "[]")]
    [InlineData("json0", """[{"p":["l",2,"n"],"na":1}]""", """[{"p":["l",0],"lm":3}]""", "left", """[{"p":["l",1,"n"],"na":1}]""")]
    // Objects: a tie of inserts or replaces goes to the left side, which replaces what the right one put; a delete carries the
    // concurrent change of what it deletes (so it stays invertible).
    [InlineData("json0", """[{"p":["k"],"oi":1}]""", """[{"p":["k"],"oi":2}]""", "left", """[{"p":["k"],"od":2,"oi":1}]""")]
    [InlineData("json0", """[{"p":["k"],"oi":1}]""", """[{"p":["k"],"oi":2}]""", "right", "[]")]
    [InlineData("json0", """[{"p":["k"],"od":0,"oi":1}]""", """[{"p":["k"],"od":0,"oi":2}]""", "left", """[{"p":["k"],"od":2,"oi":1}]""")]
    [InlineData("json0", """[{"p":["k"],"od":{"n":1}}]""", """[{"p":["k","n"],"na":2}]""", "left", """[{"p":["k"],"od":{"n":3}}]""")]
    // Strings: offsets in UTF-16 units (an emoji is 2), and text0 subtype operations.
    [InlineData("json0", """[{"p":["s",2],"si":"x"}]""", """[{"p":["s",0],"si":"😀"}]""", "left", """[{"p":["s",4],"si":"x"}]""")]
    [InlineData("json0", """[{"p":["s"],"t":"text0","o":[{"p":1,"i":"x"}]}]""", """[{"p":["s"],"t":"text0","o":[{"p":0,"d":"ab"}]}]""", "left", """[{"p":["s"],"t":"text0","o":[{"i":"x","p":0}]}]""")]
    // text-unicode: inserts tie by side; overlapping deletes delete once.
    [InlineData("text-unicode", """["x"]""", """["y"]""", "left", """["x"]""")]
    [InlineData("text-unicode", """["x"]""", """["y"]""", "right", """[1,"x"]""")]
    [InlineData("text-unicode", """[2,{"d":2}]""", """[1,{"d":2}]""", "left", """[1,{"d":1}]""")]
    public void Transform_gives_the_originals_result(string type, string op, string other, string side, string expected)
        => AssertJson(expected, Type(type).Transform(Parse(op), Parse(other), side == "left" ? OtSide.Left : OtSide.Right));

    [Theory]
    [InlineData("json0", """{"n":0.1}""", """[{"p":["n"],"na":0.2}]""", """{"n":0.30000000000000004}""")]
    [InlineData("json0", """{"s":"😀b"}""", """[{"p":["s",2],"si":"x"}]""", """{"s":"😀xb"}""")]
    [InlineData("json0", """{"l":["a","b","c"]}""", """[{"p":["l",0],"lm":2}]""", """{"l":["b","c","a"]}""")]
    [InlineData("json0", """{"a":1}""", """[{"p":[],"od":{"a":1},"oi":[1]}]""", "[1]")]
    [InlineData("json0", """{"l":[1,2]}""", """[{"p":["l",2],"li":3,"ld":null}]""", """{"l":[1,2,3]}""")] // a replace at the end appends
    [InlineData("text-unicode", "\"😀b\"", """[1,"x"]""", "\"😀xb\"")]
    [InlineData("text-unicode", "\"😀bc\"", """[{"d":1},1,{"d":"c"}]""", "\"b\"")]
    public void Apply_gives_the_originals_result(string type, string snapshot, string op, string expected)
        => AssertJson(expected, Type(type).Apply(Parse(snapshot), Parse(op)));

    [Theory]
    [InlineData("json0", """[{"p":["l",0],"li":1}]""", """[{"p":["l",0],"ld":1}]""", "[]")]
    [InlineData("json0", """[{"p":["k"],"od":1}]""", """[{"p":["k"],"oi":2}]""", """[{"p":["k"],"od":1,"oi":2}]""")]
    [InlineData("json0", """[{"p":["n"],"na":1}]""", """[{"p":["n"],"na":2}]""", """[{"p":["n"],"na":3}]""")]
    [InlineData("json0", """[{"p":["s",0],"si":"ab"}]""", """[{"p":["s",2],"si":"c"}]""", """[{"p":["s",0],"si":"abc"}]""")]
    [InlineData("text-unicode", """[1,"ab"]""", """[2,{"d":1}]""", """[1,"a"]""")]
    [InlineData("text-unicode", """[{"d":"a"}]""", """[{"d":2}]""", """[{"d":3}]""")]
    public void Compose_gives_the_originals_result(string type, string first, string second, string expected)
        => AssertJson(expected, Type(type).Compose(Parse(first), Parse(second)));

    [Theory]
    [InlineData("json0", """[{"p":["l",0],"lm":2},{"p":["s",1],"si":"x"},{"p":["n"],"na":3}]""", """[{"p":["n"],"na":-3},{"p":["s",1],"sd":"x"},{"p":["l",2],"lm":0}]""")]
    [InlineData("text-unicode", """[1,"ab",{"d":"c"}]""", """[1,{"d":"ab"},"c"]""")]
    public void Invert_gives_the_originals_result(string type, string op, string expected)
        => AssertJson(expected, Type(type).Invert(Parse(op)));

    [Fact]
    public void TextUnicode_cannot_invert_a_delete_without_its_text()
        => Assert.Throws<NotSupportedException>(() => OtTypes.TextUnicode.Invert(Parse("""[1,{"d":2}]""")));

    [Theory]
    [InlineData("text-unicode", "\"ab\"", "[3]")] // a trailing skip
    [InlineData("text-unicode", "\"ab\"", """[3,"x"]""")] // longer than the document
    [InlineData("text-unicode", "\"ab\"", """[""]""")]
    [InlineData("json0", """{"s":"ab"}""", """[{"p":["s",0],"sd":"b"}]""")] // not the text at the offset
    [InlineData("json0", """{"s":"ab"}""", """[{"p":["s"],"na":1}]""")]
    [InlineData("json0", """{"l":[]}""", """[{"p":["l","k"],"oi":1}]""")]
    [InlineData("json0", """{"l":[]}""", """[{"li":1}]""")] // no path
    [InlineData("json0", """{"l":[1]}""", """[{"p":["l",2],"li":1,"ld":null}]""")] // a replace past the end (the original pads)
    [InlineData("json0", """{"l":[]}""", """[{"p":["l",30000000],"li":1,"ld":null}]""")]
    [InlineData("json0", """{"l":[]}""", """[{"p":["l","30000000"],"li":1,"ld":null}]""")]
    public void Apply_of_an_operation_that_does_not_fit_throws_OtException(string type, string snapshot, string op)
        => Assert.Throws<OtException>(() => Type(type).Apply(Parse(snapshot), Parse(op)));

    [Fact]
    public void Operations_given_to_a_type_are_not_changed()
    {
        JsonNode a = Parse("""[{"p":["l",0],"li":{"x":[1]}},{"p":["k"],"od":{"n":1}}]""");
        JsonNode b = Parse("""[{"p":["l",0],"ld":{"y":2}},{"p":["k","n"],"na":2}]""");
        string before = a.ToJsonString() + b.ToJsonString();
        OtTypes.Json0.Transform(a, b, OtSide.Left);
        OtTypes.Json0.TransformX(b, a);
        OtTypes.Json0.Compose(a, b);
        OtTypes.Json0.Invert(a);
        OtTypes.Json0.Apply(Parse("""{"l":[{"y":2}],"k":{"n":1}}"""), b);
        Assert.Equal(before, a.ToJsonString() + b.ToJsonString());
    }

    [Fact]
    public void Types_have_the_originals_names_and_create_snapshots_as_they_do()
    {
        Assert.Equal(("json0", "http://sharejs.org/types/JSONv0"), (OtTypes.Json0.Name, OtTypes.Json0.Uri));
        Assert.Equal(("text-unicode", "http://sharejs.org/types/text-unicode"), (OtTypes.TextUnicode.Name, OtTypes.TextUnicode.Uri));
        Assert.Null(OtTypes.Json0.Create(null));
        AssertJson("""{"a":[1]}""", OtTypes.Json0.Create(Parse("""{"a":[1]}""")));
        AssertJson("\"\"", OtTypes.TextUnicode.Create(null));
        Assert.Throws<OtException>(() => OtTypes.TextUnicode.Create(Parse("1")));
        AssertJson("""[{"p":["n"],"na":3}]""", OtTypes.Json0.Normalize(Parse("""[{"p":["n"],"na":1},{"p":["n"],"na":2}]""")));
        AssertJson("""[{"p":[],"oi":1}]""", OtTypes.Json0.Normalize(Parse("""{"oi":1}""")));
        AssertJson("""[2,"ab"]""", OtTypes.TextUnicode.Normalize(Parse("""[1,1,"a","b",3]""")));
    }

    private static IOtType Type(string name) => name == "json0" ? OtTypes.Json0 : OtTypes.TextUnicode;

    private static JsonNode Parse(string json) => JsonNode.Parse(json)!;

    private static void AssertJson(string expected, JsonNode? actual)
        => Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {expected}, got {actual?.ToJsonString()}");
}
