using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Lock;
using Kiln.Engine.Manifests;
using Kiln.Oci;

namespace Kiln.Engine.Tests.Manifests;

/// <summary>
/// The typed Kiln manifest (<see cref="KilnManifestFile"/>): what the build writes parses back to the same model and
/// bytes, a single-platform server keeps its one top-level content section, a multi-platform server gets one file with
/// a section per platform, and a broken field is KILN5022 naming the file and the field.
/// </summary>
public sealed class KilnManifestFileTests : IDisposable
{
    private const string Source = "/builds/orders/bin/Release/kiln/manifests/orders-api-1.4.0.json";
    private static readonly Digest InventoryDigest = Digest.Sha256("inventory"u8);
    private readonly string _directory = Directory.CreateTempSubdirectory("kiln-manifest-").FullName;

    private static readonly Lazy<JsonSchema> Schema = new(() =>
        JsonSchema.FromText(File.ReadAllText(Path.Combine(Repo.Root, "docs", "schemas", "kiln-manifest.schema.json")), new BuildOptions { SchemaRegistry = new SchemaRegistry() }));

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static Kiln.Engine.Requests.BuildRequest Request() =>
        ManifestDeterminismTests.WithProvenance(ManifestDeterminismTests.Request(), new() { KilnVersion = "0.1.0", SdkVersion = "10.0.401", SourceRevision = new string('a', 40), SourceTreeDirty = false });

    private static KilnManifestFile SingleDocument() =>
        KilnManifest.Document([(ManifestDeterminismTests.Image(withBase: true), InventoryDigest)], index: null, Request().Project, Request().Attestation.Provenance, new Lineage("1.3.0", "sha256:" + new string('1', 64)));

    private static KilnManifestFile MultiDocument() =>
        KilnManifest.Document(
            [(MultiPlatformReleaseTests.PlatformImage(Kiln.Spec.Platform.LinuxAmd64), InventoryDigest), (MultiPlatformReleaseTests.PlatformImage(Kiln.Spec.Platform.LinuxArm64), InventoryDigest)],
            MultiPlatformReleaseTests.Index,
            Request().Project,
            Request().Attestation.Provenance);

    private static void AssertValid(byte[] manifest)
    {
        using var document = JsonDocument.Parse(manifest);
        var result = Schema.Value.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, string.Join('\n', (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))));
    }

    [Fact]
    public void Parse_WrittenSinglePlatformManifest_RoundTripsToAnEqualModelAndTheSameBytes()
    {
        var written = SingleDocument();
        var bytes = written.ToJson();

        var parsed = KilnManifestFile.Parse(bytes, Source);

        Assert.Equivalent(written, parsed, strict: true);
        Assert.Equal(bytes, parsed.ToJson());
        Assert.False(parsed.IsMultiPlatform);
        var section = Assert.Single(parsed.Platforms);
        Assert.Null(section.Platform);
        Assert.Equal("1.3.0", parsed.Lineage.ParentVersion);
        Assert.Equal("10.0.401", parsed.Build.SdkVersion);
    }

    [Fact]
    public void ToJson_SinglePlatformServer_IsTheWriterBytesWithOneTopLevelContentSection()
    {
        var image = ManifestDeterminismTests.Image(withBase: true);
        var request = Request();
        var bytes = ManifestDeterminismTests.WriteManifest(image, InventoryDigest, request, out var contentDigest);

        using var json = JsonDocument.Parse(bytes);
        Assert.Equal(["$schema", "kind", "schemaVersion", "content", "contentDigest", "lineage", "build"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(Digest.Sha256(KilnManifest.Content(image, InventoryDigest, request.Project)), contentDigest);
        Assert.Equal(contentDigest, KilnManifestFile.Parse(bytes, Source).Platforms[0].ContentDigest);
        AssertValid(bytes);
    }

    [Fact]
    public void Parse_WrittenMultiPlatformManifest_HasASectionPerPlatformWithTheSinglePlatformContentDigest()
    {
        var written = MultiDocument();
        var bytes = written.ToJson();

        var parsed = KilnManifestFile.Parse(bytes, Source);

        Assert.Equivalent(written, parsed, strict: true);
        Assert.Equal(bytes, parsed.ToJson());
        Assert.True(parsed.IsMultiPlatform);
        Assert.Equal(MultiPlatformReleaseTests.Index, parsed.Index);
        Assert.Equal(["linux/amd64", "linux/arm64"], parsed.Platforms.Select(p => p.Platform));
        foreach (var (section, platform) in parsed.Platforms.Zip([Kiln.Spec.Platform.LinuxAmd64, Kiln.Spec.Platform.LinuxArm64]))
        {
            // exactly the content a per-platform file held, so the lock's combined content digest is unchanged
            var content = KilnManifest.Content(MultiPlatformReleaseTests.PlatformImage(platform), InventoryDigest, Request().Project);
            Assert.Equal(content, section.Content.ToJson());
            Assert.Equal(Digest.Sha256(content), section.ContentDigest);
        }

        using var json = JsonDocument.Parse(bytes);
        Assert.Equal(["$schema", "kind", "schemaVersion", "name", "version", "index", "platforms", "lineage", "build"], json.RootElement.EnumerateObject().Select(p => p.Name));
        AssertValid(bytes);
    }

    [Fact]
    public void LoadPlatforms_MultiPlatformFile_ReadsOneViewPerPlatform()
    {
        var path = Path.Combine(_directory, "orders-api-1.4.0.json");
        File.WriteAllBytes(path, MultiDocument().ToJson());

        var views = ManifestDocument.LoadPlatforms(path);

        Assert.Equal(["orders-api (linux/amd64)", "orders-api (linux/arm64)"], views.Select(v => v.DisplayName));
        Assert.Equal(MultiPlatformReleaseTests.Index.Digest.ToString(), views[1].ServerDigest);
        Assert.NotEqual(views[0].ImageDigest, views[1].ImageDigest);
        Assert.Equal("inventory/orders-api-1.4.0.linux-arm64.txt", views[1].Content.Inventory.Path);
    }

    [Fact]
    public void LoadPlatforms_SinglePlatformFile_ReadsOneViewWithoutAPlatform()
    {
        var path = Path.Combine(_directory, "orders-api-1.4.0.json");
        File.WriteAllBytes(path, SingleDocument().ToJson());

        var view = Assert.Single(ManifestDocument.LoadPlatforms(path));

        Assert.Null(view.Platform);
        Assert.Equal("orders-api", view.DisplayName);
        Assert.Equal("1.3.0", view.ParentVersion);
        Assert.Equal(view.ImageDigest, view.ServerDigest);
    }

    [Theory]
    [InlineData(false, "content.settings.account.uid", null)]
    [InlineData(false, "content.image.digest", "\"not-a-digest\"")]
    [InlineData(false, "content.layers[0].size", "\"12\"")]
    [InlineData(false, "content.inventory.path", null)]
    [InlineData(false, "content.settings.health.kind", "\"tcp\"")]
    [InlineData(false, "contentDigest", null)]
    [InlineData(true, "platforms[1].contentDigest", null)]
    [InlineData(true, "platforms[0].content.packages", "7")]
    [InlineData(true, "index", null)]
    public void Parse_MissingOrBadField_ThrowsKiln5022NamingTheFileAndField(bool multi, string field, string? replacement)
    {
        var node = JsonNode.Parse(multi ? MultiDocument().ToJson() : SingleDocument().ToJson())!;
        Set(node, field, replacement);

        var e = Assert.Throws<KilnException>(() => KilnManifestFile.Parse(Encoding.UTF8.GetBytes(node.ToJsonString()), Source));

        var diagnostic = Assert.Single(e.Diagnostics);
        Assert.Equal(DiagnosticCodes.KilnManifestInvalid, diagnostic.Code);
        Assert.Contains(Source, diagnostic.Message, StringComparison.Ordinal);
        Assert.Contains($"'{field}'", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NotAKilnManifest_ThrowsKiln2070()
    {
        var e = Assert.Throws<KilnException>(() => KilnManifestFile.Parse("""{"kind":"KilnRelease"}"""u8, Source));

        Assert.Equal(DiagnosticCodes.NotAKilnManifest, Assert.Single(e.Diagnostics).Code);
    }

    /// <summary>Removes (null) or replaces (raw JSON) the field at a dotted path with [i] indexes.</summary>
    private static void Set(JsonNode root, string path, string? replacement)
    {
        var parts = path.Split('.');
        var node = root;
        foreach (var part in parts[..^1])
        {
            node = Step(node, part);
        }

        var last = parts[^1];
        var bracket = last.IndexOf('[', StringComparison.Ordinal);
        if (bracket >= 0)
        {
            node = node[last[..bracket]]!;
            last = last[bracket..];
            var index = int.Parse(last[1..^1], System.Globalization.CultureInfo.InvariantCulture);
            Assert.NotNull(replacement);
            node.AsArray()[index] = JsonNode.Parse(replacement);
            return;
        }

        var parent = node.AsObject();
        Assert.True(parent.ContainsKey(last), $"{path} is not in the written manifest");
        if (replacement is null)
        {
            parent.Remove(last);
        }
        else
        {
            parent[last] = JsonNode.Parse(replacement);
        }
    }

    private static JsonNode Step(JsonNode node, string part)
    {
        var bracket = part.IndexOf('[', StringComparison.Ordinal);
        return bracket < 0
            ? node[part]!
            : node[part[..bracket]]![int.Parse(part[(bracket + 1)..^1], System.Globalization.CultureInfo.InvariantCulture)]!;
    }
}
