using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Kiln.Tests.Shared;

/// <summary>Rendered YAML read back as a JSON tree, the way Kubernetes reads it. Linked into every test project that
/// checks rendered Kubernetes documents.</summary>
internal static class YamlJsonTree
{
    /// <summary>The single YAML document as a JSON tree: double-quoted scalars are strings, plain ones numbers or
    /// booleans; any other plain scalar fails the test (Kiln quotes every string it writes).</summary>
    public static JsonNode ToJson(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return Convert(stream.Documents.Single().RootNode)!;

        static JsonNode? Convert(YamlNode node) => node switch
        {
            YamlMappingNode map => new JsonObject(map.Children.Select(e => KeyValuePair.Create(((YamlScalarNode)e.Key).Value!, Convert(e.Value)))),
            YamlSequenceNode seq => new JsonArray([.. seq.Children.Select(Convert)]),
            YamlScalarNode { Style: ScalarStyle.DoubleQuoted } s => JsonValue.Create(s.Value),
            YamlScalarNode { Value: "true" or "false" } s => JsonValue.Create(s.Value == "true"),
            YamlScalarNode s when long.TryParse(s.Value, out var number) => JsonValue.Create(number),
            YamlScalarNode s => throw new Xunit.Sdk.XunitException($"Unquoted scalar '{s.Value}' that is neither a number nor a boolean"),
            _ => throw new Xunit.Sdk.XunitException($"Unexpected node {node.NodeType}"),
        };
    }
}
