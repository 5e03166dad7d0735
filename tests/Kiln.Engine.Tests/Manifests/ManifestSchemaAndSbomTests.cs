using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Json.Schema;
using Kiln.Engine.Lock;
using Kiln.Engine.Manifests;
using Kiln.Engine.Planning;
using Kiln.Oci;

namespace Kiln.Engine.Tests.Manifests;

/// <summary>The manifest satisfies docs/schemas/kiln-manifest.schema.json; the SBOM is deterministic and well formed.</summary>
public sealed class ManifestSchemaAndSbomTests
{
    private static readonly Digest InventoryDigest = Digest.Sha256("inventory"u8);

    private static readonly Lazy<JsonSchema> Schema = new(() =>
    {
        return JsonSchema.FromText(File.ReadAllText(Path.Combine(Repo.Root, "docs", "schemas", "kiln-manifest.schema.json")), new BuildOptions { SchemaRegistry = new SchemaRegistry() });
    });

    private static void AssertValid(byte[] manifest)
    {
        using var document = JsonDocument.Parse(manifest);
        var result = Schema.Value.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, string.Join('\n', (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Write_Manifest_SatisfiesPublishedSchema(bool withBase) =>
        AssertValid(ManifestDeterminismTests.WriteManifest(ManifestDeterminismTests.Image(withBase: withBase), InventoryDigest, ManifestDeterminismTests.Request(), out _));

    [Fact]
    public void Write_WithLineage_SatisfiesSchemaAndKeepsContentDigest()
    {
        var image = ManifestDeterminismTests.Image();
        var request = ManifestDeterminismTests.WithProvenance(ManifestDeterminismTests.Request(), new() { KilnVersion = "0.1.0", SourceRevision = new string('a', 40), SourceTreeDirty = true, ContinuousIntegrationRun = "https://ci/run/7" });
        ManifestDeterminismTests.WriteManifest(image, InventoryDigest, request, out var without);

        var bytes = ManifestDeterminismTests.WriteManifest(image, InventoryDigest, request, out var with, new Lineage("1.3.0", "sha256:" + new string('1', 64)));

        AssertValid(bytes);
        Assert.Equal(without, with);
        using var json = JsonDocument.Parse(bytes);
        Assert.Equal("1.3.0", json.RootElement.GetProperty("lineage").GetProperty("parentVersion").GetString());
        Assert.True(json.RootElement.GetProperty("build").GetProperty("sourceTreeDirty").GetBoolean());
    }

    [Fact]
    public void Schema_ManifestWithUnknownContentField_IsRejected()
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(ManifestDeterminismTests.WriteManifest(ManifestDeterminismTests.Image(), InventoryDigest, ManifestDeterminismTests.Request(), out _))!;
        node["content"]!["surprise"] = 1;

        using var document = JsonDocument.Parse(node.ToJsonString());
        Assert.False(Schema.Value.Evaluate(document.RootElement).IsValid);
    }

    [Fact]
    public void Sbom_SameImageTwice_IdenticalAndSerialDerivedFromContentDigest()
    {
        var image = WithPackages(ManifestDeterminismTests.Image());
        var content = Digest.Sha256("content"u8);

        var first = Sbom.Write(image, content, ManifestDeterminismTests.Request().Project, new());
        var second = Sbom.Write(image, content, ManifestDeterminismTests.Request().Project, new());
        var other = Sbom.Write(image, Digest.Sha256("other"u8), ManifestDeterminismTests.Request().Project, new());

        Assert.Equal(first, second);
        using var json = JsonDocument.Parse(first);
        var serial = json.RootElement.GetProperty("serialNumber").GetString()!;
        Assert.Matches("^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", serial);
        Assert.StartsWith("urn:uuid:" + content.Encoded[..8], serial, StringComparison.Ordinal);
        Assert.NotEqual(serial, JsonDocument.Parse(other).RootElement.GetProperty("serialNumber").GetString());
        Assert.DoesNotContain("timestamp", Encoding.UTF8.GetString(first), StringComparison.Ordinal);
    }

    [Fact]
    public void Sbom_DebianPackages_BecomeDebPurlsWithEncodedEpochAndSha256()
    {
        var image = WithPackages(ManifestDeterminismTests.Image());

        var purls = Sbom.Components(image, ManifestDeterminismTests.Request().Project).Select(c => c.Purl).ToList();

        Assert.Equal(["pkg:deb/debian/libc6@2.36-9%2Bdeb12u10?arch=amd64", "pkg:deb/debian/tzdata@1%3A2024a-0%2Bdeb12u1?arch=all"], purls);
    }

    [Fact]
    public void NuGetPackages_DepsJson_ListsPackagesAndRuntimePackWithSha512Hex()
    {
        var deps = """
            {
              "runtimeTarget": { "name": ".NETCoreApp,Version=v10.0/linux-x64" },
              "libraries": {
                "Shop.Api/1.0.0": { "type": "project", "serviceable": false, "sha512": "" },
                "Serilog/4.2.0": { "type": "package", "serviceable": true, "sha512": "sha512-AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==", "path": "serilog/4.2.0" },
                "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/10.0.0": { "type": "runtimepack", "serviceable": false, "sha512": "" }
              }
            }
            """u8.ToArray();

        var packages = Sbom.NuGetPackages(deps).OrderBy(p => p.Purl, StringComparer.Ordinal).ToList();

        Assert.Equal(["pkg:nuget/Microsoft.NETCore.App.Runtime.linux-x64@10.0.0", "pkg:nuget/Serilog@4.2.0"], packages.Select(p => p.Purl));
        Assert.Equal(Convert.ToHexStringLower([.. Enumerable.Range(0, 64).Select(i => (byte)i)]), packages[1].HashHex);
        Assert.Equal("SHA-512", packages[1].HashAlgorithm);
    }

    [Fact]
    public void ParseInventory_InventoryBytes_RoundTripsEveryField()
    {
        var inventory = ManifestDeterminismTests.Image().Inventory;

        var parsed = ManifestDocument.ParseInventory(Encoding.UTF8.GetString(inventory.ToBytes()));

        Assert.Equal(inventory.Files.Select(f => f.Path), parsed.Keys.Order(StringComparer.Ordinal));
        var file = parsed["/app/Orders.Api.dll"];
        Assert.Equal(('f', 0x1A4, 0L, 0L, 1L, new string('0', 64)), (file.Type, file.Mode, file.Uid, file.Gid, file.Size, file.Sha256));
    }

    private static Building.BuiltImage WithPackages(Building.BuiltImage image) => image with
    {
        Plan = image.Plan with
        {
            Base = image.Plan.Base with
            {
                Packages = [new LockedPackage("tzdata", "1:2024a-0+deb12u1", "all", new string('b', 64), "pool/t/tzdata.deb", 1), new LockedPackage("libc6", "2.36-9+deb12u10", "amd64", new string('a', 64), "pool/g/libc6.deb", 1)],
            },
        },
    };
}
