using Kiln.Engine.Deploy;
using YamlDotNet.RepresentationModel;
using YamlMap = Kiln.Engine.Deploy.YamlMap;

namespace Kiln.Engine.Tests.Deploy;

/// <summary>The emitter's output, read back by YamlDotNet (a YAML 1.1 parser, the stricter case for quoting).</summary>
public sealed class YamlWriterTests
{
    [Theory]
    [InlineData("1.10")]
    [InlineData("yes")]
    [InlineData("no")]
    [InlineData("on")]
    [InlineData("null")]
    [InlineData("~")]
    [InlineData("0x1A")]
    [InlineData("012")]
    [InlineData("1e3")]
    [InlineData("true")]
    [InlineData("")]
    [InlineData("- item")]
    [InlineData("key: value")]
    [InlineData("#comment")]
    [InlineData("quote \" and \\ backslash")]
    [InlineData("line\nbreak\ttab")]
    [InlineData("\u0001\u0085\u2028\uFEFF")]
    [InlineData("ünïcødé 🚀")]
    public void Write_AmbiguousString_ReadsBackAsTheSameString(string value)
    {
        var yaml = YamlWriter.Write(new YamlMap { { "value", value }, { value.Length > 0 ? value : "empty", "key" } });

        var root = Parse(yaml);
        var scalar = (YamlScalarNode)root.Children[new YamlScalarNode("value")];
        Assert.Equal(value, scalar.Value);
        Assert.Equal(YamlDotNet.Core.ScalarStyle.DoubleQuoted, scalar.Style);
        Assert.Contains(root.Children.Keys, k => ((YamlScalarNode)k).Value == (value.Length > 0 ? value : "empty"));
    }

    [Fact]
    public void Write_NestedMapsAndSequences_IsBlockStyleAndDeterministic()
    {
        YamlMap Build() => new()
        {
            { "apiVersion", "v1" },
            { "list", new YamlSeq([new YamlMap { { "a", 1 }, { "b", new YamlSeq([new YamlString("x")]) } }, new YamlString("y"), new YamlSeq([new YamlInt(2)])]) },
            { "empty", new YamlMap() },
            { "none", new YamlSeq([]) },
            { "flag", false },
        };

        var yaml = YamlWriter.Write(Build());

        Assert.Equal(yaml, YamlWriter.Write(Build()));
        Assert.Equal(
            "apiVersion: \"v1\"\nlist:\n  - a: 1\n    b:\n      - \"x\"\n  - \"y\"\n  - \n    - 2\nempty: {}\nnone: []\nflag: false\n",
            yaml);
        var root = Parse(yaml);
        var first = (YamlMappingNode)((YamlSequenceNode)root.Children[new YamlScalarNode("list")]).Children[0];
        Assert.Equal("1", ((YamlScalarNode)first.Children[new YamlScalarNode("a")]).Value);
    }

    private static YamlMappingNode Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }
}
