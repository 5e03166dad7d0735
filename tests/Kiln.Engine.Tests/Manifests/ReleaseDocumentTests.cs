using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Manifests;
using Kiln.Engine.Registry;
using Kiln.Oci;

namespace Kiln.Engine.Tests.Manifests;

/// <summary>
/// release.json's one model: what the build writes parses back to the same bytes and satisfies
/// docs/schemas/kiln-release.schema.json; every missing or mistyped field is refused as KILN5020 naming the file and
/// the field.
/// </summary>
public sealed class ReleaseDocumentTests
{
    private const string Source = "/builds/shop/bin/Release/kiln/release.json";

    private static readonly Lazy<JsonSchema> Schema = new(() =>
    {
        return JsonSchema.FromText(File.ReadAllText(Path.Combine(Repo.Root, "docs", "schemas", "kiln-release.schema.json")), new BuildOptions { SchemaRegistry = new SchemaRegistry() });
    });

    private static ReleaseDocument Written(bool deployments = true, bool pushed = false)
    {
        var document = Release.Document(
        [
            new ReleaseEntry(ManifestDeterminismTests.Image(name: "orders-api"), Digest.Sha256("a"u8)),
            new ReleaseEntry(ManifestDeterminismTests.Image(name: "orders-worker"), Digest.Sha256("b"u8)),
        ]);
        if (deployments)
        {
            document = document with { Deployments = [new ReleaseDeployment("shop", "deploy/shop", [.. document.Images.Select(i => i.Reference)])] };
        }

        if (pushed)
        {
            var image = document.Images[0];
            document = document.WithPushed([new PushedImage(image.Name, image.Version, "registry.test/shop/" + image.Name, $"registry.test/shop/{image.Reference}@{image.Digest}", image.Digest)]);
        }

        return document;
    }

    private static KilnException Refused(string json) =>
        Assert.Throws<KilnException>(() => ReleaseDocument.Parse(Encoding.UTF8.GetBytes(json), Source));

    private static void AssertNamesField(KilnException e, string field)
    {
        var diagnostic = Assert.Single(e.Diagnostics);
        Assert.Equal(DiagnosticCodes.ReleaseFileInvalid, diagnostic.Code);
        Assert.Contains(Source, diagnostic.Message, StringComparison.Ordinal);
        Assert.Contains($"field '{field}'", diagnostic.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Parse_WrittenRelease_RoundTripsToTheSameBytes(bool deployments, bool pushed)
    {
        var bytes = Written(deployments, pushed).ToJson();

        var parsed = ReleaseDocument.Parse(bytes, Source);

        Assert.Equal(bytes, parsed.ToJson());
        Assert.Equal(2, parsed.Images.Length);
        Assert.Equal(deployments ? 1 : 0, parsed.Deployments.Length);
        Assert.Equal(pushed ? 1 : 0, parsed.Images[0].Pushed.Length);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void ToJson_WrittenRelease_SatisfiesPublishedSchema(bool deployments, bool pushed)
    {
        using var document = JsonDocument.Parse(Written(deployments, pushed).ToJson());

        var result = Schema.Value.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });

        Assert.True(result.IsValid, string.Join('\n', (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(x => $"{d.InstanceLocation}: {x.Value}"))));
    }

    [Fact]
    public void Write_Release_NamesItsSchemaThenKeepsTheFieldOrderTheBuildHasAlwaysWritten()
    {
        var image = Written(deployments: false).Images[0];

        var text = Encoding.UTF8.GetString(Written(deployments: false).ToJson());

        var expected = $$"""
            {
              "$schema": "{{ReleaseDocument.SchemaUri}}",
              "kind": "KilnRelease",
              "schemaVersion": 1,
              "layout": "oci",
              "images": [
                {
                  "name": "{{image.Name}}",
                  "version": "{{image.Version}}",
                  "reference": "{{image.Reference}}",
                  "digest": "{{image.Digest}}",
                  "mediaType": "{{image.MediaType}}",
                  "size": {{image.Size}},
                  "configDigest": "{{image.ConfigDigest}}",
                  "manifest": "{{image.Manifest}}",
                  "manifestContentDigest": "{{image.ManifestContentDigest}}",
                  "inventory": "{{image.Inventory}}"
                },
            """;
        Assert.StartsWith(expected.ReplaceLineEndings("\n"), text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("kind")]
    [InlineData("schemaVersion")]
    [InlineData("layout")]
    [InlineData("images")]
    [InlineData("images[0].name")]
    [InlineData("images[0].version")]
    [InlineData("images[0].reference")]
    [InlineData("images[0].digest")]
    [InlineData("images[0].mediaType")]
    [InlineData("images[0].size")]
    [InlineData("images[0].configDigest")]
    [InlineData("images[0].manifest")]
    [InlineData("images[0].manifestContentDigest")]
    [InlineData("images[0].inventory")]
    [InlineData("images[0].pushed[0].repository")]
    [InlineData("images[0].pushed[0].reference")]
    [InlineData("images[0].pushed[0].digest")]
    [InlineData("deployments[0].name")]
    [InlineData("deployments[0].directory")]
    [InlineData("deployments[0].components")]
    public void Parse_FieldMissing_ThrowsKiln5020NamingTheField(string field)
    {
        var root = JsonNode.Parse(Written(deployments: true, pushed: true).ToJson())!;
        var (parent, name) = Locate(root, field);
        parent.AsObject().Remove(name);

        AssertNamesField(Refused(root.ToJsonString()), field);
    }

    [Theory]
    [InlineData("$schema", "1")]
    [InlineData("kind", "\"KilnManifest\"")]
    [InlineData("schemaVersion", "2")]
    [InlineData("schemaVersion", "\"1\"")]
    [InlineData("layout", "[]")]
    [InlineData("images", "{}")]
    [InlineData("images[0].name", "7")]
    [InlineData("images[0].version", "\"\"")]
    [InlineData("images[0].reference", "\"other:1.0.0\"")]
    [InlineData("images[0].digest", "\"sha256:00\"")]
    [InlineData("images[0].size", "\"812\"")]
    [InlineData("images[0].size", "1.5")]
    [InlineData("images[0].configDigest", "true")]
    [InlineData("images[0].manifest", "\"../../../etc/passwd\"")]
    [InlineData("images[0].manifest", "\"/etc/passwd\"")]
    [InlineData("images[0].inventory", "{}")]
    [InlineData("images[0].pushed", "{}")]
    [InlineData("images[0].pushed[0].digest", "\"latest\"")]
    [InlineData("deployments", "\"shop\"")]
    [InlineData("deployments[0].components", "[1]")]
    public void Parse_FieldOfWrongShape_ThrowsKiln5020NamingTheField(string field, string value)
    {
        var root = JsonNode.Parse(Written(deployments: true, pushed: true).ToJson())!;
        var (parent, name) = Locate(root, field);
        parent[name] = JsonNode.Parse(value);

        AssertNamesField(Refused(root.ToJsonString()), field == "deployments[0].components" ? "deployments[0].components[0]" : field);
    }

    [Fact]
    public void Parse_ComponentWithoutVersion_ThrowsKiln5020NamingTheComponent()
    {
        var root = JsonNode.Parse(Written().ToJson())!;
        root["deployments"]![0]!["components"]![1] = "orders-worker";

        AssertNamesField(Refused(root.ToJsonString()), "deployments[0].components[1]");
    }

    [Fact]
    public void Parse_SameServerTwice_ThrowsKiln5020()
    {
        var root = JsonNode.Parse(Written().ToJson())!;
        root["images"]!.AsArray().Add(root["images"]![0]!.DeepClone());

        AssertNamesField(Refused(root.ToJsonString()), "images");
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("{\"kind\":\"KilnRelease\",\"schemaVersion\":1,\"layout\":\"oci\",\"images\":[{\"name\":")]
    public void Parse_TruncatedOrNotAnObject_ThrowsKiln5020(string json)
    {
        var e = Refused(json);

        Assert.Equal(DiagnosticCodes.ReleaseFileInvalid, Assert.Single(e.Diagnostics).Code);
        Assert.Contains(Source, e.Diagnostics[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_StringNotUtf8_ThrowsKiln5020NamingTheField()
    {
        var bytes = Written(deployments: false).ToJson();
        var layout = Encoding.UTF8.GetBytes("\"layout\": \"oci\"");
        bytes[bytes.AsSpan().IndexOf(layout) + layout.Length - 2] = 0xFF;

        AssertNamesField(Assert.Throws<KilnException>(() => ReleaseDocument.Parse(bytes, Source)), "layout");
    }

    [Fact]
    public void WithPushed_SameRepositoryAgain_ReplacesTheEarlierPush()
    {
        var release = Written(deployments: false, pushed: true);
        var image = release.Images[0];
        var again = new PushedImage(image.Name, image.Version, image.Pushed[0].Repository, image.Pushed[0].Reference + "-again", image.Digest);
        var elsewhere = new PushedImage(image.Name, image.Version, "mirror.test/" + image.Name, "mirror.test/" + image.Reference, image.Digest);

        var pushed = release.WithPushed([again, elsewhere]).Images[0].Pushed;

        Assert.Equal([again.Reference, elsewhere.Reference], pushed.Select(p => p.Reference));
    }

    /// <summary>The object holding <paramref name="field"/> (images[0].pushed[0].digest) and the field's own name.</summary>
    private static (JsonNode Parent, string Name) Locate(JsonNode root, string field)
    {
        var parts = field.Split('.');
        var node = root;
        foreach (var part in parts[..^1])
        {
            var bracket = part.IndexOf('[', StringComparison.Ordinal);
            node = bracket < 0 ? node[part]! : node[part[..bracket]]![int.Parse(part[(bracket + 1)..^1], System.Globalization.CultureInfo.InvariantCulture)]!;
        }

        return (node, parts[^1]);
    }
}
