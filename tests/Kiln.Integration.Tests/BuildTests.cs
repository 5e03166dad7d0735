using System.Text.Json;
using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

[Collection(KilnCollection.Name)]
public sealed class BuildTests(KilnPackage package)
{
    internal const string TwoServers = """
        public sealed class Api : ServerSpec
        {
            public override string Name => "fixture-api";
            public override string Version => "1.2.3";
            public override ImmutableArray<Layer> Layers =>
            [
                Layer.File("files/app.sh", to: "/app/app.sh"),
                Layer.File("files/settings.json", to: "/app/settings.json"),
                Layer.Directory("www", to: "/srv/www", exclude: ["**/*.tmp"]),
            ];
            public override Entrypoint Entrypoint => new("/app/app.sh", "--serve");
            public override ImmutableArray<Port> Ports => [Port.Tcp(8080)];
            public override HealthCheck Health => HealthCheck.Http(8080, "/healthz");
            public override Limits Limits => new() { OpenFiles = 65_536 };
            public override ImmutableArray<EnvironmentVariable> Environment => [new("MODE", "production")];
        }

        public sealed class Worker : ServerSpec
        {
            public override string Name => "fixture-worker";
            public override string Version => "0.9.0";
            public override ImmutableArray<Layer> Layers => [Layer.File("files/app.sh", to: "/worker/run.sh")];
            public override Account Account => Account.NonRoot("worker", 20000);
            public override Entrypoint Entrypoint => new("/worker/run.sh");
        }
        """;

    internal static FixtureProject TwoServerFixture(KilnPackage package, string? directory = null) =>
        new FixtureProject(package, directory: directory)
            .Specs(TwoServers)
            .Write("files/app.sh", "#!/bin/sh\necho serving\n")
            .Write("files/settings.json", "{ \"mode\": \"production\" }\n")
            .Write("www/index.html", "<h1>hello</h1>\n")
            .Write("www/css/site.css", "h1 { color: red }\n")
            .Write("www/scratch.tmp", "excluded\n");

    [Fact]
    public void Build_SpecProject_WritesLayoutManifestsInventoriesAndRelease()
    {
        var fixture = TwoServerFixture(package);

        fixture.BuildOk();

        var release = fixture.ReadRelease();
        Assert.Equal(["fixture-api:1.2.3", "fixture-worker:0.9.0"], release.Digests.Keys.Order(StringComparer.Ordinal));
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture.LayoutDirectory, "index.json")));
        var refs = index.RootElement.GetProperty("manifests").EnumerateArray()
            .Select(m => (Ref: m.GetProperty("annotations").GetProperty("org.opencontainers.image.ref.name").GetString(), Digest: m.GetProperty("digest").GetString()))
            .ToList();
        Assert.Equal(release.Digests.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, kv.Value)), refs.Select(r => (r.Ref!, r.Digest!)));
        foreach (var digest in release.Digests.Values)
        {
            Assert.True(File.Exists(Path.Combine(fixture.LayoutDirectory, "blobs", "sha256", digest["sha256:".Length..])), $"manifest blob {digest} missing");
        }

        var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture.OutputDirectory, "manifests", "fixture-api-1.2.3.json"))).RootElement;
        var content = manifest.GetProperty("content");
        Assert.Equal(release.Digests["fixture-api:1.2.3"], content.GetProperty("image").GetProperty("digest").GetString());
        Assert.Equal(65536, content.GetProperty("settings").GetProperty("limits").GetProperty("openFiles").GetInt32());
        Assert.Equal(["MODE"], content.GetProperty("settings").GetProperty("environment").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("Fixture.Api", content.GetProperty("spec").GetProperty("type").GetString());
        Assert.Equal("Specs.cs", content.GetProperty("spec").GetProperty("source").GetString());
        Assert.Equal(3, content.GetProperty("layers").GetArrayLength());

        var inventory = File.ReadAllLines(Path.Combine(fixture.OutputDirectory, "inventory", "fixture-api-1.2.3.txt"));
        Assert.Contains(inventory, l => l.StartsWith("/app/app.sh\tf\t0755\t0\t0\t", StringComparison.Ordinal));
        Assert.Contains(inventory, l => l.StartsWith("/app/settings.json\tf\t0644\t0\t0\t", StringComparison.Ordinal));
        Assert.Contains(inventory, l => l.StartsWith("/srv/www/css/site.css\tf\t0644", StringComparison.Ordinal));
        Assert.DoesNotContain(inventory, l => l.Contains("scratch.tmp", StringComparison.Ordinal));
        var inventoryDigest = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(fixture.OutputDirectory, "inventory", "fixture-api-1.2.3.txt"))));
        Assert.Equal(inventoryDigest, content.GetProperty("inventory").GetProperty("digest").GetString());
    }

    [Fact]
    public void Build_ImageConfig_CarriesUserEntrypointPortsAndFixedTimes()
    {
        var fixture = TwoServerFixture(package);
        fixture.BuildOk();
        var layout = Kiln.Oci.OciLayout.Open(fixture.LayoutDirectory);

        var manifest = layout.ReadManifest(Kiln.Oci.Digest.Parse(fixture.ReadRelease().Digests["fixture-api:1.2.3"]));
        var config = layout.ReadConfig(manifest.Config.Digest);

        Assert.Equal("10001:10001", config.Config.User);
        Assert.Equal(["/app/app.sh", "--serve"], config.Config.Entrypoint.ToArray());
        Assert.Contains("8080/tcp", config.Config.ExposedPorts);
        Assert.Contains("MODE=production", config.Config.Env);
        Assert.Equal("1970-01-01T00:00:00Z", config.Created);
        Assert.Equal(manifest.Layers.Length, config.DiffIds.Length);
    }

    [Fact]
    public void Build_SourceDateEpochSet_StampsThatTime()
    {
        var fixture = TwoServerFixture(package);
        var result = fixture.Build(new Dictionary<string, string?> { ["SOURCE_DATE_EPOCH"] = "1700000000" });
        Assert.True(result.ExitCode == 0, result.Output);

        var layout = Kiln.Oci.OciLayout.Open(fixture.LayoutDirectory);
        var manifest = layout.ReadManifest(Kiln.Oci.Digest.Parse(fixture.ReadRelease().Digests["fixture-api:1.2.3"]));
        Assert.Equal("2023-11-14T22:13:20Z", layout.ReadConfig(manifest.Config.Digest).Created);
    }
}
