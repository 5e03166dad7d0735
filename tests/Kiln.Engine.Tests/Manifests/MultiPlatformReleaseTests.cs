using System.Text;
using System.Text.Json;
using Json.Schema;
using Kiln.Engine.Building;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Manifests;
using Kiln.Oci;

namespace Kiln.Engine.Tests.Manifests;

/// <summary>
/// A multi-platform server in release.json and the Kiln manifest: one release image whose digest is the index's, one
/// entry per platform in the spec's order, per-platform file names; parsed back to the same bytes, valid against the
/// published schemas, and refused by field (KILN5020) when a platform entry is broken.
/// </summary>
public sealed class MultiPlatformReleaseTests
{
    private const string Source = "/builds/multi/bin/Release/kiln/release.json";

    private static readonly Lazy<JsonSchema> ReleaseSchema = new(() =>
        JsonSchema.FromText(File.ReadAllText(Path.Combine(Repo.Root, "docs", "schemas", "kiln-release.schema.json")), new BuildOptions { SchemaRegistry = new SchemaRegistry() }));

    /// <summary>The test image as one platform of a server that declares amd64 and arm64.</summary>
    internal static BuiltImage PlatformImage(Kiln.Spec.Platform platform)
    {
        var image = ManifestDeterminismTests.Image();
        var server = image.Plan.Server with { Platforms = [Kiln.Spec.Platform.LinuxAmd64, Kiln.Spec.Platform.LinuxArm64] };
        var manifest = Digest.Sha256(Encoding.UTF8.GetBytes("manifest " + platform));
        return image with
        {
            Plan = image.Plan with { Server = server, Platform = platform },
            Manifest = image.Manifest with { Digest = manifest },
        };
    }

    internal static readonly Descriptor Index = new(MediaTypes.ImageIndex, Digest.Sha256("index"u8), 512);

    private static ReleaseDocument Written() => Release.Document(
        [
            new ReleaseEntry(PlatformImage(Kiln.Spec.Platform.LinuxAmd64), Digest.Sha256("content amd64"u8)),
            new ReleaseEntry(PlatformImage(Kiln.Spec.Platform.LinuxArm64), Digest.Sha256("content arm64"u8)),
            new ReleaseEntry(ManifestDeterminismTests.Image(name: "orders-worker"), Digest.Sha256("worker"u8)),
        ],
        indexes: new Dictionary<string, Descriptor> { ["orders-api:1.4.0"] = Index });

    [Fact]
    public void Document_MultiPlatformServer_IsOneImageWithTheIndexDigestAndAPlatformEntryEach()
    {
        var release = Written();

        var api = release.Images.Single(i => i.Name == "orders-api");
        Assert.True(api.IsIndex);
        Assert.Equal(Index.Digest, api.Digest);
        Assert.Equal(MediaTypes.ImageIndex, api.MediaType);
        Assert.Equal(["linux/amd64", "linux/arm64"], api.Platforms.Select(p => p.Platform));
        Assert.Equal("manifests/orders-api-1.4.0.json", api.Platforms[1].Manifest); // the server's one manifest, a section per platform
        Assert.Equal("inventory/orders-api-1.4.0.linux-arm64.txt", api.Platforms[1].Inventory);
        Assert.Equal("sbom/orders-api-1.4.0.linux-arm64.cdx.json", api.Platforms[1].Sbom);
        Assert.Equal(api.Platforms[0].Manifest, api.Manifest); // the first platform's, for one-image readers
        Assert.False(release.Images.Single(i => i.Name == "orders-worker").IsIndex);
    }

    [Fact]
    public void Parse_WrittenMultiPlatformRelease_RoundTripsAndSatisfiesTheSchema()
    {
        var bytes = Written().ToJson();

        var parsed = ReleaseDocument.Parse(bytes, Source);
        using var document = JsonDocument.Parse(bytes);
        var result = ReleaseSchema.Value.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });

        Assert.Equal(bytes, parsed.ToJson());
        Assert.True(result.IsValid, string.Join('\n', (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(x => $"{d.InstanceLocation}: {x.Value}"))));
    }

    [Theory]
    [InlineData("\"platform\": \"linux/amd64\"", "\"platform\": \"amd64\"", "platform")]
    [InlineData("\"sbom\": \"sbom/orders-api-1.4.0.linux-amd64.cdx.json\"", "\"sbom\": \"../../etc/passwd\"", "sbom")]
    public void Parse_BrokenPlatformEntry_ThrowsKiln5020NamingTheField(string good, string bad, string field)
    {
        var json = Encoding.UTF8.GetString(Written().ToJson()).Replace(good, bad, StringComparison.Ordinal);
        Assert.Contains(bad, json, StringComparison.Ordinal);

        var e = Assert.Throws<KilnException>(() => ReleaseDocument.Parse(Encoding.UTF8.GetBytes(json), Source));

        var diagnostic = Assert.Single(e.Diagnostics);
        Assert.Equal(DiagnosticCodes.ReleaseFileInvalid, diagnostic.Code);
        Assert.Contains(field, diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KilnManifest_PlatformImage_NamesItsPlatformAndPerImageFilesCarryIt()
    {
        var arm64 = PlatformImage(Kiln.Spec.Platform.LinuxArm64);
        var single = ManifestDeterminismTests.Image();

        using var content = JsonDocument.Parse(KilnManifest.Content(arm64, Digest.Sha256("inventory"u8), new Kiln.Engine.Requests.ProjectOptions { ProjectDirectory = "/home/dev/orders", IntermediateDirectory = "/tmp/obj" }));
        using var plain = JsonDocument.Parse(KilnManifest.Content(single, Digest.Sha256("inventory"u8), new Kiln.Engine.Requests.ProjectOptions { ProjectDirectory = "/home/dev/orders", IntermediateDirectory = "/tmp/obj" }));

        Assert.Equal("linux/arm64", content.RootElement.GetProperty("platform").GetString());
        Assert.False(plain.RootElement.TryGetProperty("platform", out _)); // single-platform content is unchanged
        Assert.Equal("orders-api-1.4.0.json", KilnManifest.FileName(arm64)); // one file per server
        Assert.Equal("orders-api-1.4.0.linux-arm64.txt", KilnManifest.InventoryFileName(arm64));
        Assert.Equal("orders-api-1.4.0.json", KilnManifest.FileName(single));
    }
}
