using System.Text.Json;
using System.Text.Json.Nodes;
using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// One spec, two platforms: a scratch-based server with a self-contained console app (published once per platform's
/// runtime) and a platform-independent file layer, built once by a real <c>dotnet build</c> and judged by skopeo,
/// oci-image-tool, umoci and runc. The build is shared by every test (it publishes twice), so the tests that build
/// again leave it as they found it.
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class MultiPlatformTests(KilnPackage package)
{
    private const string Reference = "multi:1.0.0";

    private static readonly Lock Gate = new();
    private static FixtureProject? built;

    /// <summary>Every build of the fixture records the lock (Debug builds leave it off by default).</summary>
    private static readonly string[] LockOn = ["-p:KilnLockMode=Update"];

    private FixtureProject Built()
    {
        lock (Gate)
        {
            if (built is not null)
            {
                return built;
            }

            var busybox = Tools.Require("busybox", "busybox-static");
            var root = Path.Combine(package.Root, "projects", "multi-" + Guid.NewGuid().ToString("N")[..8]);
            var fixture = new FixtureProject(package, directory: Path.Combine(root, "specs"));
            Write(root, "app/App.csproj", """
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <RuntimeIdentifiers>linux-x64;linux-arm64</RuntimeIdentifiers>
                  </PropertyGroup>
                </Project>
                """);
            Write(root, "app/Program.cs", "System.Console.WriteLine(\"hello\");\n");
            // The app restores its runtime packs (linux-x64 and linux-arm64) from the NuGet registry.
            Write(root, "nuget.config", $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="kiln" value="{package.Feed}" />
                    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
                  </packageSources>
                </configuration>
                """);
            fixture.Write("nuget.config", File.ReadAllText(Path.Combine(root, "nuget.config")));
            // A static busybox (the host's, x86-64) is what the amd64 image runs under runc: scratch has no libc for the app.
            fixture.WriteBytes("busybox", File.ReadAllBytes(busybox));
            fixture.Write("greeting.txt", "hello from every platform\n");
            fixture.Specs("""
                public sealed class Multi : ServerSpec
                {
                    public override string Name => "multi";
                    public override string Version => "1.0.0";
                    public override ImmutableArray<Platform> Platforms => [Platform.LinuxAmd64, Platform.LinuxArm64];
                    public override ImmutableArray<Layer> Layers =>
                    [
                        Layer.File("busybox", to: "/bin/busybox"),
                        Layer.File("greeting.txt", to: "/etc/greeting.txt"),
                        Layer.PublishOutput("../app/App.csproj", to: "/app", selfContained: true),
                    ];
                    public override Account Account => Account.NonRoot("app", 10001);
                    public override Entrypoint Entrypoint => new("/bin/busybox", "cat", "/etc/greeting.txt");
                }
                """);
            fixture.BuildOk(LockOn);
            return built = fixture;
        }
    }

    private static void Write(string root, string relative, string content)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content.ReplaceLineEndings("\n"));
    }

    private static JsonNode Inspect(string layout, string? platform = null)
    {
        var skopeo = Tools.Require("skopeo", "skopeo");
        string[] overrides = platform is null ? [] : ["--override-os", platform.Split('/')[0], "--override-arch", platform.Split('/')[1]];
        var inspect = ProcessRunner.Run(skopeo, ["inspect", .. overrides, "--raw", $"oci:{layout}:{Reference}"]);
        Assert.True(inspect.ExitCode == 0, inspect.Output);
        return JsonNode.Parse(inspect.Output)!;
    }

    /// <summary>
    /// What the build wrote, as an operator moves it: `kiln export` writes the whole index as an OCI archive, which
    /// containerd imports with both platforms; a docker-archive holds one image, so it takes --platform (and says so
    /// without one).
    /// </summary>
    [SkippableFact]
    public void Export_TwoPlatformIndex_ContainerdImportsBothPlatformsAndDockerArchiveTakesOne()
    {
        var fixture = Built();
        var indexDigest = JsonNode.Parse(File.ReadAllText(Path.Combine(fixture.LayoutDirectory, "index.json")))!["manifests"]![0]!["digest"]!.GetValue<string>();
        var archive = Path.Combine(fixture.Directory, "multi.oci.tar");

        var export = KilnCli.Run(package, fixture.Directory, "export", fixture.LayoutDirectory, Reference, "-o", archive);
        Assert.True(export.ExitCode == 0, export.Output);
        using (var containerd = ContainerdDaemon.Start())
        {
            Assert.Contains($"unpacking {Reference}", containerd.Import(archive), StringComparison.Ordinal);
            var image = containerd.Images().SingleOrDefault(i => i.Name == Reference);
            Assert.True(image.Name is not null, "ctr image ls lists no multi:1.0.0 image:\n" + containerd.Ctr("images", "ls"));
            Assert.Equal(indexDigest, image.Digest);
            Assert.Equal(["linux/amd64", "linux/arm64"], image.Platforms.Order(StringComparer.Ordinal));
        }

        var docker = Path.Combine(fixture.Directory, "multi.docker.tar");
        var refused = KilnCli.Run(package, fixture.Directory, "export", fixture.LayoutDirectory, Reference, "-f", "docker-archive", "-o", docker);
        Assert.True(refused.ExitCode == 16, refused.Output);
        Assert.Contains("KILN1014", refused.Output, StringComparison.Ordinal);
        Assert.Contains("--platform", refused.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(docker), "a refused export left an archive");

        var arm64 = KilnCli.Run(package, fixture.Directory, "export", fixture.LayoutDirectory, Reference, "-f", "docker-archive", "--platform", "linux/arm64", "-o", docker);
        Assert.True(arm64.ExitCode == 0, arm64.Output);
        var skopeo = Tools.Require("skopeo", "skopeo");
        var config = ProcessRunner.Run(skopeo, ["inspect", "--config", $"docker-archive:{docker}"]);
        Assert.True(config.ExitCode == 0, config.Output);
        Assert.Equal("arm64", JsonNode.Parse(config.Output)!["architecture"]!.GetValue<string>());
    }

    [SkippableFact]
    public void Build_TwoPlatforms_TagsAnIndexWithBothPlatformsInSpecOrder()
    {
        var fixture = Built();

        var index = Inspect(fixture.LayoutDirectory);

        Assert.Equal("application/vnd.oci.image.index.v1+json", index["mediaType"]!.GetValue<string>());
        var platforms = index["manifests"]!.AsArray().Select(m => $"{m!["platform"]!["os"]}/{m["platform"]!["architecture"]}").ToList();
        Assert.Equal(["linux/amd64", "linux/arm64"], platforms);
        Assert.All(index["manifests"]!.AsArray(), m => Assert.Equal("application/vnd.oci.image.manifest.v1+json", m!["mediaType"]!.GetValue<string>()));
        // Only the index is tagged: the platform manifests are reached through it.
        var tags = JsonNode.Parse(File.ReadAllText(Path.Combine(fixture.LayoutDirectory, "index.json")))!["manifests"]!.AsArray();
        Assert.Equal(Reference, Assert.Single(tags)!["annotations"]!["org.opencontainers.image.ref.name"]!.GetValue<string>());
    }

    [SkippableFact]
    public void Build_TwoPlatforms_OciImageToolAcceptsEveryImage()
    {
        var fixture = Built();
        var tool = Tools.Require("oci-image-tool", "oci-image-tool");

        // The layout as built (every ref, through the index to each platform's manifest, config and layers), and each
        // platform's image picked out of the index into a layout of its own. This oci-image-tool implements --type image
        // for a layout, not --type imageLayout.
        var whole = ProcessRunner.Run(tool, ["validate", "--type", "image", fixture.LayoutDirectory]);
        Assert.True(whole.ExitCode == 0, $"oci-image-tool refused the layout:\n{whole.Output}");
        foreach (var platform in new[] { "linux/amd64", "linux/arm64" })
        {
            var single = UnpackedInventory.PickPlatform(fixture.LayoutDirectory, Reference, platform, Path.Combine(fixture.Directory, "validate-" + platform.Replace('/', '-')));
            var validate = ProcessRunner.Run(tool, ["validate", "--type", "image", single]);
            Assert.True(validate.ExitCode == 0, $"oci-image-tool refused the {platform} image:\n{validate.Output}");
        }

        var check = KilnCli.Run(package, fixture.Directory, "fsck", fixture.LayoutDirectory);
        Assert.True(check.ExitCode == 0, "kiln fsck must follow the index to every platform's blobs:\n" + check.Output);
    }

    [SkippableFact]
    public void Build_TwoPlatforms_EachImageCarriesItsOwnArchitecture()
    {
        var fixture = Built();
        var umoci = Tools.Require("umoci", "umoci");

        foreach (var (platform, machine) in new[] { ("linux/amd64", (ushort)0x3E), ("linux/arm64", (ushort)0xB7) })
        {
            var layout = UnpackedInventory.PickPlatform(fixture.LayoutDirectory, Reference, platform, Path.Combine(fixture.Directory, "pick-" + platform.Replace('/', '-')));
            var bundle = Path.Combine(fixture.Directory, "bundle-" + platform.Replace('/', '-'));
            var unpack = ProcessRunner.Run(umoci, ["unpack", "--rootless", "--image", $"{layout}:{Reference}", bundle]);
            Assert.True(unpack.ExitCode == 0, unpack.Output);

            var app = File.ReadAllBytes(Path.Combine(bundle, "rootfs", "app", "App"));
            Assert.Equal("\u007fELF", System.Text.Encoding.ASCII.GetString(app, 0, 4));
            Assert.Equal(machine, BitConverter.ToUInt16(app, 18)); // e_machine: EM_X86_64 (62), EM_AARCH64 (183)
        }
    }

    [SkippableFact]
    public void Build_TwoPlatforms_ConfigsNamePlatformAndSharedLayersAreOneBlob()
    {
        var fixture = Built();
        var layout = Kiln.Oci.OciLayout.Open(fixture.LayoutDirectory);
        var descriptor = layout.ReadIndex().Manifests.Single(m => m.RefName == Reference);
        var index = layout.ReadImageIndex(descriptor.Digest);

        var images = index.Manifests.Select(m => (Platform: m.Platform!, Manifest: layout.ReadManifest(m.Digest))).ToList();

        foreach (var (platform, manifest) in images)
        {
            var config = layout.ReadConfig(manifest.Config.Digest);
            Assert.Equal((platform.Os, platform.Architecture), (config.Os, config.Architecture));
        }

        // busybox and greeting.txt do not depend on the platform: the same blobs; the app (and its runtime) differ.
        Assert.Equal(images[0].Manifest.Layers[..2].Select(l => l.Digest), images[1].Manifest.Layers[..2].Select(l => l.Digest));
        Assert.NotEqual(images[0].Manifest.Layers[^1].Digest, images[1].Manifest.Layers[^1].Digest);
    }

    [SkippableFact]
    public void Build_TwoPlatforms_WritesArtifactsPerPlatformAndLocksIndexAndPlatformDigests()
    {
        var fixture = Built();
        var release = JsonNode.Parse(File.ReadAllText(fixture.ReleasePath))!;
        var image = Assert.Single(release["images"]!.AsArray())!;
        var layout = Kiln.Oci.OciLayout.Open(fixture.LayoutDirectory);
        var tagged = layout.ReadIndex().Manifests.Single(m => m.RefName == Reference);

        Assert.Equal(tagged.Digest.ToString(), image["digest"]!.GetValue<string>());
        Assert.Equal("application/vnd.oci.image.index.v1+json", image["mediaType"]!.GetValue<string>());
        var platforms = image["platforms"]!.AsArray();
        Assert.Equal(["linux/amd64", "linux/arm64"], platforms.Select(p => p!["platform"]!.GetValue<string>()));
        var index = layout.ReadImageIndex(tagged.Digest);
        Assert.Equal(index.Manifests.Select(m => m.Digest.ToString()), platforms.Select(p => p!["digest"]!.GetValue<string>()));
        foreach (var platform in platforms.Select(p => p!))
        {
            foreach (var file in new[] { "manifest", "inventory", "sbom" })
            {
                Assert.True(File.Exists(Path.Combine(fixture.OutputDirectory, platform[file]!.GetValue<string>())), $"{file} of {platform["platform"]} is missing");
            }

            // Every platform names the server's one Kiln manifest, which holds a section per platform.
            Assert.Equal("manifests/multi-1.0.0.json", platform["manifest"]!.GetValue<string>());
        }

        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(fixture.OutputDirectory, "manifests", "multi-1.0.0.json")))!;
        Assert.Equal(tagged.Digest.ToString(), manifest["index"]!["digest"]!.GetValue<string>());
        var sections = manifest["platforms"]!.AsArray();
        Assert.Equal(platforms.Select(p => p!["platform"]!.GetValue<string>()), sections.Select(s => s!["platform"]!.GetValue<string>()));
        Assert.Equal(platforms.Select(p => p!["platform"]!.GetValue<string>()), sections.Select(s => s!["content"]!["platform"]!.GetValue<string>()));
        Assert.Equal(platforms.Select(p => p!["digest"]!.GetValue<string>()), sections.Select(s => s!["content"]!["image"]!["digest"]!.GetValue<string>()));
        Assert.Equal(platforms.Select(p => p!["manifestContentDigest"]!.GetValue<string>()), sections.Select(s => s!["contentDigest"]!.GetValue<string>()));
        Assert.Equal(["multi-1.0.0.json"], Directory.GetFiles(Path.Combine(fixture.OutputDirectory, "manifests")).Select(Path.GetFileName));

        Assert.True(File.Exists(Path.Combine(fixture.OutputDirectory, "inventory", "multi-1.0.0.linux-arm64.txt")));
        Assert.True(File.Exists(Path.Combine(fixture.OutputDirectory, "attestations", "multi-1.0.0.linux-amd64.provenance.json")));

        var locked = JsonNode.Parse(File.ReadAllText(Path.Combine(fixture.Directory, "kiln.lock.json")))!["servers"]!["multi"]!["1.0.0"]!;
        Assert.Equal(tagged.Digest.ToString(), locked["digest"]!.GetValue<string>());
        Assert.Equal(platforms[0]!["digest"]!.GetValue<string>(), locked["platforms"]!["linux/amd64"]!.GetValue<string>());
        Assert.Equal(platforms[1]!["digest"]!.GetValue<string>(), locked["platforms"]!["linux/arm64"]!.GetValue<string>());
    }

    [SkippableFact]
    public void Diff_SameMultiPlatformRelease_PairsPlatformByPlatformWithNoDifferences()
    {
        var fixture = Built();

        var diff = KilnCli.Run(package, fixture.Directory, "diff", fixture.ReleasePath, fixture.ReleasePath, "--json");

        Assert.True(diff.ExitCode == 0, diff.Output);
        var images = JsonNode.Parse(diff.Output)!["images"]!.AsArray();
        Assert.Equal(["multi (linux/amd64)", "multi (linux/arm64)"], images.Select(i => i!["server"]!.GetValue<string>()));
        var platforms = JsonNode.Parse(File.ReadAllText(fixture.ReleasePath))!["images"]![0]!["platforms"]!.AsArray();
        Assert.Equal(platforms.Select(p => p!["digest"]!.GetValue<string>()), images.Select(i => i!["afterDigest"]!.GetValue<string>()));
    }

    [SkippableFact]
    public void Verify_ReleaseWithPlatform_ChecksThatPlatformsImage()
    {
        var fixture = Built();
        var umoci = Tools.Require("umoci", "umoci");
        var layout = UnpackedInventory.PickPlatform(fixture.LayoutDirectory, Reference, "linux/arm64", Path.Combine(fixture.Directory, "verify-arm64"));
        var bundle = Path.Combine(fixture.Directory, "verify-bundle");
        var unpack = ProcessRunner.Run(umoci, ["unpack", "--image", $"{layout}:{Reference}", bundle]);
        Assert.True(unpack.ExitCode == 0, unpack.Output);
        var arm64 = JsonNode.Parse(File.ReadAllText(fixture.ReleasePath))!["images"]![0]!["platforms"]![1]!;

        var verify = KilnCli.Run(package, fixture.Directory, "verify", "--manifest", fixture.ReleasePath, "--root", Path.Combine(bundle, "rootfs"), "--platform", "linux/arm64", "--json");
        var unknown = KilnCli.Run(package, fixture.Directory, "verify", "--manifest", fixture.ReleasePath, "--root", Path.Combine(bundle, "rootfs"), "--platform", "linux/s390x");

        Assert.True(verify.ExitCode == 0, verify.Output);
        Assert.Equal(arm64["digest"]!.GetValue<string>(), JsonNode.Parse(verify.Output)!["digest"]!.GetValue<string>());
        Assert.Equal(16, unknown.ExitCode);
        Assert.Contains("KILN2146", unknown.Output, StringComparison.Ordinal);

        // The server's Kiln manifest named directly: its arm64 section.
        var direct = KilnCli.Run(package, fixture.Directory, "verify", "--manifest", Path.Combine(fixture.OutputDirectory, "manifests", "multi-1.0.0.json"), "--root", Path.Combine(bundle, "rootfs"), "--platform", "linux/arm64", "--json");
        Assert.True(direct.ExitCode == 0, direct.Output);
        Assert.Equal(arm64["digest"]!.GetValue<string>(), JsonNode.Parse(direct.Output)!["digest"]!.GetValue<string>());
    }

    [SkippableFact]
    public void Build_TwoPlatforms_Amd64ImageRunsUnderRunc()
    {
        var fixture = Built();
        var umoci = Tools.Require("umoci", "umoci");
        var runc = Tools.Require("runc", "runc");
        var layout = UnpackedInventory.PickPlatform(fixture.LayoutDirectory, Reference, "linux/amd64", Path.Combine(fixture.Directory, "run-amd64"));
        var bundle = Path.Combine(fixture.Directory, "run-bundle");
        var run = RuncOnce.Run(umoci, runc, $"{layout}:{Reference}", bundle);

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("hello from every platform", run.Output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Build_SecondTime_IsANoOpWithTheSameDigests()
    {
        var fixture = Built();
        lock (Gate)
        {
            var before = File.ReadAllText(fixture.ReleasePath);

            var again = fixture.BuildOk(LockOn);

            Assert.Equal(before, File.ReadAllText(fixture.ReleasePath));
            Assert.DoesNotContain("(Publish target(s))", again.Output, StringComparison.Ordinal);
        }
    }

    [SkippableFact]
    public void Build_NarrowedToArm64_BuildsOnlyArm64AndLeavesTheLockAlone()
    {
        var fixture = Built();
        lock (Gate)
        {
            var lockPath = Path.Combine(fixture.Directory, "kiln.lock.json");
            var lockBefore = File.ReadAllText(lockPath);
            var full = JsonNode.Parse(File.ReadAllText(fixture.ReleasePath))!["images"]![0]!["platforms"]!.AsArray();
            try
            {
                fixture.BuildOk([.. LockOn, "-p:KilnPlatforms=linux/arm64"]);

                var image = JsonNode.Parse(File.ReadAllText(fixture.ReleasePath))!["images"]![0]!;
                var only = Assert.Single(image["platforms"]!.AsArray())!;
                Assert.Equal("linux/arm64", only["platform"]!.GetValue<string>());
                Assert.Equal(full[1]!["digest"]!.GetValue<string>(), only["digest"]!.GetValue<string>()); // the same arm64 image as the full build
                Assert.Equal(lockBefore, File.ReadAllText(lockPath)); // a partial set is never locked
                var index = Inspect(fixture.LayoutDirectory);
                Assert.Equal("arm64", Assert.Single(index["manifests"]!.AsArray())!["platform"]!["architecture"]!.GetValue<string>());
            }
            finally
            {
                fixture.BuildOk(LockOn); // every platform again, for the other tests
            }
        }
    }

    [SkippableFact]
    public void Build_KilnPlatformsNotDeclaredOrMalformed_FailsWithCodedErrors()
    {
        var fixture = Built();
        lock (Gate)
        {
            try
            {
                var undeclared = fixture.Build([.. LockOn, "-p:KilnPlatforms=linux/riscv64"]);
                Assert.NotEqual(0, undeclared.ExitCode);
                Assert.Contains("KILN2144", undeclared.Output, StringComparison.Ordinal);
                Assert.Contains("linux/riscv64", undeclared.Output, StringComparison.Ordinal);

                var malformed = fixture.Build([.. LockOn, "-p:KilnPlatforms=arm64"]);
                Assert.NotEqual(0, malformed.ExitCode);
                Assert.Contains("KILN2145", malformed.Output, StringComparison.Ordinal);
            }
            finally
            {
                fixture.BuildOk(LockOn);
            }
        }
    }
}
