using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Kiln.Engine.Building;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Evaluation;
using Kiln.Engine.Manifests;
using Kiln.Engine.Planning;
using Kiln.Engine.Requests;
using Kiln.Oci;
using Kiln.Spec;

namespace Kiln.Engine.Tests.Manifests;

/// <summary>
/// The Kiln manifest and release.json, produced in memory from a built image: the same image gives the same bytes, the
/// content digest ignores the build section and the checkout directory, and every list has a fixed order.
/// </summary>
public sealed class ManifestDeterminismTests
{
    private static readonly Digest InventoryDigest = Digest.Sha256("inventory"u8);

    [Fact]
    public void Write_SameImageTwice_GivesIdenticalBytes()
    {
        var first = WriteManifest(Image(), InventoryDigest, Request(), out var firstDigest);
        var second = WriteManifest(Image(), InventoryDigest, Request(), out var secondDigest);

        Assert.Equal(first, second);
        Assert.Equal(firstDigest, secondDigest);
    }

    /// <summary>
    /// The expected digest is derived the way docs/artifacts.md tells a reader to check it, from the written file alone:
    /// the content section's text, moved to column 0, plus a final newline, hashed by the platform's SHA-256 rather
    /// than by Kiln's own serialiser or digest code.
    /// </summary>
    [Fact]
    public void Write_ContentDigest_IsTheSha256OfTheContentSectionAlone()
    {
        var bytes = WriteManifest(Image(), InventoryDigest, Request(), out var contentDigest);

        using var json = JsonDocument.Parse(bytes);
        var section = json.RootElement.GetProperty("content").GetRawText().Replace("\n  ", "\n", StringComparison.Ordinal) + "\n";
        var expected = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(section)));
        Assert.Equal(expected, contentDigest.ToString());
        Assert.Equal(expected, json.RootElement.GetProperty("contentDigest").GetString());
    }

    [Fact]
    public void Write_OtherProvenance_ChangesOnlyTheBuildSection()
    {
        var local = WithProvenance(Request(), new BuildProvenance { KilnVersion = "0.1.0", SdkVersion = "10.0.401" });
        var ci = WithProvenance(Request(), new BuildProvenance
        {
            KilnVersion = "0.1.0",
            SdkVersion = "10.0.401",
            SourceRevision = "5114f85",
            SourceTreeDirty = false,
            ContinuousIntegrationRun = "https://ci.example.com/runs/42",
        });

        var localBytes = WriteManifest(Image(), InventoryDigest, local, out var localDigest);
        var ciBytes = WriteManifest(Image(), InventoryDigest, ci, out var ciDigest);

        Assert.Equal(localDigest, ciDigest);
        Assert.NotEqual(localBytes, ciBytes);
        using var localJson = JsonDocument.Parse(localBytes);
        using var ciJson = JsonDocument.Parse(ciBytes);
        Assert.Equal(localJson.RootElement.GetProperty("content").GetRawText(), ciJson.RootElement.GetProperty("content").GetRawText());
        var build = ciJson.RootElement.GetProperty("build");
        Assert.Equal("5114f85", build.GetProperty("sourceRevision").GetString());
        Assert.False(build.GetProperty("sourceTreeDirty").GetBoolean());
        Assert.Equal("https://ci.example.com/runs/42", build.GetProperty("ciRun").GetString());
        Assert.False(localJson.RootElement.GetProperty("build").TryGetProperty("sourceRevision", out _));
    }

    [Fact]
    public void Write_ProjectCheckedOutElsewhere_GivesTheSameContent()
    {
        var here = Image(specFile: "/home/dev/orders/Specs/OrdersApi.cs");
        var there = Image(specFile: "/builds/agent-7/orders/Specs/OrdersApi.cs");

        var hereContent = KilnManifest.Content(here, InventoryDigest, Request(projectDirectory: "/home/dev/orders").Project);
        var thereContent = KilnManifest.Content(there, InventoryDigest, Request(projectDirectory: "/builds/agent-7/orders").Project);

        Assert.Equal(hereContent, thereContent);
        using var json = JsonDocument.Parse(hereContent);
        Assert.Equal("Specs/OrdersApi.cs", json.RootElement.GetProperty("spec").GetProperty("source").GetString());
    }

    [Fact]
    public void Write_OtherInventoryDigest_ChangesTheContentDigest()
    {
        WriteManifest(Image(), InventoryDigest, Request(), out var before);
        WriteManifest(Image(), Digest.Sha256("other inventory"u8), Request(), out var after);

        Assert.NotEqual(before, after);
    }

    [Fact]
    public void Write_TopLevel_HasTheFixedPropertyOrder()
    {
        using var json = JsonDocument.Parse(WriteManifest(Image(), InventoryDigest, Request(), out _));

        Assert.Equal(
            new[] { "$schema", "kind", "schemaVersion", "content", "contentDigest", "lineage", "build" },
            json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(KilnManifest.Kind, json.RootElement.GetProperty("kind").GetString());
        Assert.Equal(
            new[] { "name", "version", "reference", "image", "config", "base", "layers", "packages", "settings", "inventory", "spec" },
            json.RootElement.GetProperty("content").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void Write_Bytes_AreIndentedUtf8WithLineFeedsAndAFinalNewline()
    {
        var bytes = WriteManifest(Image(), InventoryDigest, Request(), out _);

        Assert.DoesNotContain((byte)'\r', bytes);
        Assert.Equal((byte)'\n', bytes[^1]);
        Assert.StartsWith("{\n  \"$schema\": \"https://kiln.dev/schemas/kiln-manifest.schema.json\",\n  \"kind\": \"KilnManifest\",\n", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public void Write_Settings_RecordNamesNeverValuesOfEnvironmentAndSecrets()
    {
        var text = Encoding.UTF8.GetString(WriteManifest(Image(), InventoryDigest, Request(), out _));
        using var json = JsonDocument.Parse(text);
        var settings = json.RootElement.GetProperty("content").GetProperty("settings");

        Assert.Equal(new[] { "ASPNETCORE_ENVIRONMENT", "ORDERS_REGION" }, settings.GetProperty("environment").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(new[] { "orders-db" }, settings.GetProperty("secrets").EnumerateArray().Select(e => e.GetString()));
        Assert.DoesNotContain("eu-west-1", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_Labels_AreSortedByKey()
    {
        using var json = JsonDocument.Parse(WriteManifest(Image(), InventoryDigest, Request(), out _));

        var labels = json.RootElement.GetProperty("content").GetProperty("settings").GetProperty("labels");
        Assert.Equal(new[] { "org.opencontainers.image.vendor", "team" }, labels.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void Write_Layers_ListBaseLayersFirstAndNameTheCompressorOnlyForKilnLayers()
    {
        using var json = JsonDocument.Parse(WriteManifest(Image(withBase: true), InventoryDigest, Request(), out _));

        var layers = json.RootElement.GetProperty("content").GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(new[] { "base:oci:bases/runtime:runtime-deps:10.0", "publish:../Orders.Api/Orders.Api.csproj", "file:config/appsettings.Production.json" }, layers.Select(l => l.GetProperty("source").GetString()));
        Assert.False(layers[0].TryGetProperty("compression", out _));
        Assert.Equal(LayerBuilder.Compressor, layers[1].GetProperty("compression").GetString());
        Assert.Equal(1, layers[2].GetProperty("files").GetInt32()); // directories are not counted
        var baseSection = json.RootElement.GetProperty("content").GetProperty("base");
        Assert.Equal("oci:bases/runtime:runtime-deps:10.0", baseSection.GetProperty("name").GetString());
        Assert.StartsWith("sha256:", baseSection.GetProperty("digest").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Write_ScratchBase_HasANameAndNoDigest()
    {
        using var json = JsonDocument.Parse(WriteManifest(Image(), InventoryDigest, Request(), out _));

        var baseSection = json.RootElement.GetProperty("content").GetProperty("base");
        Assert.Equal("scratch", baseSection.GetProperty("name").GetString());
        Assert.False(baseSection.TryGetProperty("digest", out _));
    }

    [Fact]
    public void FileNames_AreNameDashVersion()
    {
        Assert.Equal("orders-api-1.4.0.json", KilnManifest.FileName(Image()));
        Assert.Equal("orders-api-1.4.0.txt", KilnManifest.InventoryFileName(Image()));
    }

    [Fact]
    public void ReleaseWrite_ImagesInAnyOrder_AreSortedByReference()
    {
        var api = new ReleaseEntry(Image(name: "orders-api"), Digest.Sha256("a"u8));
        var worker = new ReleaseEntry(Image(name: "orders-worker"), Digest.Sha256("b"u8));
        var admin = new ReleaseEntry(Image(name: "orders-admin"), Digest.Sha256("c"u8));

        var forward = Release.Write([api, worker, admin]);
        var backward = Release.Write([admin, worker, api]);

        Assert.Equal(forward, backward);
        using var json = JsonDocument.Parse(forward);
        Assert.Equal(
            new[] { "orders-admin:1.4.0", "orders-api:1.4.0", "orders-worker:1.4.0" },
            json.RootElement.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("reference").GetString()));
    }

    [Fact]
    public void ReleaseWrite_Entry_HasTheDocumentedFieldsAndRelativePaths()
    {
        var image = Image();
        var bytes = Release.Write([new ReleaseEntry(image, Digest.Sha256("content"u8))]);

        using var json = JsonDocument.Parse(bytes);
        Assert.Equal(new[] { "$schema", "kind", "schemaVersion", "layout", "images" }, json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("KilnRelease", json.RootElement.GetProperty("kind").GetString());
        Assert.Equal("oci", json.RootElement.GetProperty("layout").GetString());
        var entry = json.RootElement.GetProperty("images")[0];
        Assert.Equal(
            new[] { "name", "version", "reference", "digest", "mediaType", "size", "configDigest", "manifest", "manifestContentDigest", "inventory" },
            entry.EnumerateObject().Select(p => p.Name));
        Assert.Equal(image.Manifest.Digest.ToString(), entry.GetProperty("digest").GetString());
        Assert.Equal("manifests/orders-api-1.4.0.json", entry.GetProperty("manifest").GetString());
        Assert.Equal("inventory/orders-api-1.4.0.txt", entry.GetProperty("inventory").GetString());
        Assert.Equal(Digest.Sha256("content"u8).ToString(), entry.GetProperty("manifestContentDigest").GetString());
        Assert.DoesNotContain((byte)'\r', bytes);
        Assert.Equal((byte)'\n', bytes[^1]);
    }

    internal static BuildRequest Request(string projectDirectory = "/home/dev/orders") => new()
    {
        Evaluation = new EvaluationOptions { Assembly = projectDirectory + "/bin/Release/net10.0/Orders.Specs.dll" },
        Project = new ProjectOptions
        {
            ProjectDirectory = projectDirectory,
            IntermediateDirectory = projectDirectory + "/obj/Release/kiln",
            SourceDateEpoch = 1_700_000_000,
            Configuration = "Release",
        },
        OutputDirectory = projectDirectory + "/bin/Release/kiln",
    };

    internal static BuildRequest WithProvenance(BuildRequest request, BuildProvenance provenance) =>
        request with { Attestation = request.Attestation with { Provenance = provenance } };

    /// <summary>The Kiln manifest of <paramref name="image"/> as the engine writes it for <paramref name="request"/>.</summary>
    internal static byte[] WriteManifest(BuiltImage image, Digest inventoryDigest, BuildRequest request, out Digest contentDigest, Kiln.Engine.Lock.Lineage? lineage = null) =>
        KilnManifest.Write(image, inventoryDigest, request.Project, request.Attestation.Provenance, out contentDigest, lineage);

    /// <summary>The provenance statement of <paramref name="image"/> as the engine writes it for <paramref name="request"/>.</summary>
    internal static byte[] Statement(BuiltImage image, BuildRequest request, string platform) =>
        Kiln.Engine.Attestation.Provenance.Statement(image, request.Evaluation.Assembly, request.Project, request.Attestation.Provenance, platform);

    internal static BuiltImage Image(string name = "orders-api", bool withBase = false, string specFile = "/home/dev/orders/Specs/OrdersApi.cs")
    {
        var server = new ResolvedServer
        {
            SpecType = "Orders.Specs.OrdersApi",
            Location = new SourceLocation(specFile, 9),
            Name = name,
            Version = "1.4.0",
            Base = withBase ? BaseImage.OciLayout("bases/runtime", "runtime-deps:10.0") : BaseImage.Scratch,
            Layers =
            [
                Layer.PublishOutput("../Orders.Api/Orders.Api.csproj", to: "/app"),
                Layer.File("config/appsettings.Production.json", to: "/app/appsettings.Production.json"),
            ],
            Account = Account.NonRoot("orders", uid: 10001),
            WorkingDirectory = "/app",
            Entrypoint = new Entrypoint("/app/Orders.Api", "--urls", "http://+:8080"),
            Arguments = [],
            Environment = [new("ASPNETCORE_ENVIRONMENT", "Production"), new("ORDERS_REGION", "eu-west-1")],
            Ports = [Port.Tcp(8080, "http")],
            Health = HealthCheck.Http(8080, "/healthz"),
            Limits = new Limits { OpenFiles = 65_536 },
            Labels = [new("team", "orders"), new("org.opencontainers.image.vendor", "Acme")],
            Volumes = ["/tmp"],
            Secrets = [new SecretReference("orders-db", EnvironmentVariable: "ConnectionStrings__Orders")],
        };

        var basePlan = withBase
            ? new BasePlan("oci:bases/runtime:runtime-deps:10.0", Blob(MediaTypes.ImageManifest, "base manifest"), null, [Blob(MediaTypes.LayerTarGzip, "base layer")], null)
            : BasePlan.Scratch;
        ImmutableArray<BuiltLayer> baseLayers = withBase
            ? [new BuiltLayer(Blob(MediaTypes.LayerTarGzip, "base layer"), Digest.Sha256("base tar"u8), [File("/usr/lib/libc.so.6")], "base:oci:bases/runtime:runtime-deps:10.0", FromCache: true)]
            : [];
        ImmutableArray<BuiltLayer> layers =
        [
            new BuiltLayer(Blob(MediaTypes.LayerTarGzip, "publish layer"), Digest.Sha256("publish tar"u8), [Dir("/app"), File("/app/Orders.Api"), File("/app/Orders.Api.dll")], "publish:../Orders.Api/Orders.Api.csproj", FromCache: false),
            new BuiltLayer(Blob(MediaTypes.LayerTarGzip, "config layer"), Digest.Sha256("config tar"u8), [Dir("/app"), File("/app/appsettings.Production.json")], "file:config/appsettings.Production.json", FromCache: true),
        ];
        var inventory = new Inventory();
        foreach (var layer in baseLayers.Concat(layers))
        {
            inventory.Apply(layer.Files);
        }

        return new BuiltImage(
            new ImagePlan(server, basePlan, []),
            Blob(MediaTypes.ImageManifest, "manifest of " + name),
            Blob(MediaTypes.ImageConfig, "config of " + name),
            baseLayers,
            layers,
            inventory);
    }

    private static Descriptor Blob(string mediaType, string content)
    {
        var bytes = Encoding.UTF8.GetBytes(content);
        return new Descriptor(mediaType, Digest.Sha256(bytes), bytes.Length);
    }

    private static LayerFileRecord Dir(string path) => new(path, EntryKind.Directory, 0x1ED, 0, 0, 0, null, null);

    private static LayerFileRecord File(string path) => new(path, EntryKind.File, 0x1A4, 0, 0, 1, new string('0', 64), null);
}
