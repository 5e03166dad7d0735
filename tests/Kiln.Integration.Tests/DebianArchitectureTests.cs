using System.Buffers.Binary;
using System.Text.Json;
using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// One Debian base built for amd64 and for arm64 in one real build, against the mirror this machine's apt uses: the
/// arm64 index is verified and resolved like amd64's, the lock pins a set per architecture that share their
/// Architecture: all packages, and the arm64 image holds aarch64 binaries. One arm64 resolution serves every assertion.
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class DebianArchitectureTests(KilnPackage package)
{
    /// <summary>ELF e_machine of AArch64 (EM_AARCH64).</summary>
    private const int Aarch64 = 183;

    // Until servers list their platforms, the base's architecture argument picks a single-platform server's platform.
    private const string Spec = """
        public sealed class Api : ServerSpec
        {
            public override string Name => "api";
            public override string Version => "1.0.0";
            public override BaseImage Base => BaseImage.Debian("bookworm", ["libgcc-s1", "netbase"]);
            public override ImmutableArray<Layer> Layers => [];
            public override Entrypoint Entrypoint => new("/app/api");
        }

        public sealed class ApiArm : ServerSpec
        {
            public override string Name => "api-arm";
            public override string Version => "1.0.0";
            public override BaseImage Base => BaseImage.Debian("bookworm", ["libgcc-s1", "netbase"], "arm64");
            public override ImmutableArray<Layer> Layers => [];
            public override Entrypoint Entrypoint => new("/app/api");
        }
        """;

    [SkippableFact]
    public void DebianBase_Amd64AndArm64_PinsEachArchitectureSharesArchitectureAllAndBuildsAarch64Rootfs()
    {
        var umoci = Tools.Require("umoci", "umoci");
        var cache = $"-p:KilnCacheDirectory={ShopSample.CacheDirectory(package)}";
        var fixture = new FixtureProject(package, "DebianArch").Specs(Spec);

        fixture.BuildOk(cache);

        // The lock: one set per architecture, keyed by it; every arch-specific pin is that architecture's, and the
        // Architecture: all package is the same file (version, hash, pool path) in both.
        var sets = LockedSets(fixture);
        Assert.Equal(["bookworm/amd64: libgcc-s1 netbase", "bookworm/arm64: libgcc-s1 netbase"], sets.Keys.Order(StringComparer.Ordinal));
        var amd64 = sets["bookworm/amd64: libgcc-s1 netbase"];
        var arm64 = sets["bookworm/arm64: libgcc-s1 netbase"];
        Assert.Equal(("bookworm", "arm64"), (arm64.GetProperty("suite").GetString(), arm64.GetProperty("architecture").GetString()));
        var armPackages = Packages(arm64);
        var amdPackages = Packages(amd64);
        Assert.Equal(["gcc-12-base", "libc6", "libgcc-s1", "netbase"], armPackages.Keys.Order(StringComparer.Ordinal));
        Assert.All(armPackages.Where(p => p.Key != "netbase"), p => Assert.Equal("arm64", p.Value.GetProperty("architecture").GetString()));
        Assert.Equal("all", armPackages["netbase"].GetProperty("architecture").GetString());
        Assert.Equal(amdPackages["netbase"].GetRawText(), armPackages["netbase"].GetRawText());
        Assert.NotEqual(amdPackages["libc6"].GetProperty("sha256").GetString(), armPackages["libc6"].GetProperty("sha256").GetString());
        Assert.EndsWith("_arm64.deb", armPackages["libc6"].GetProperty("filename").GetString(), StringComparison.Ordinal);

        // The image: config architecture arm64, and the loader and libc in the unpacked rootfs are AArch64 ELF files.
        Assert.Equal("arm64", ImageConfig(fixture, "api-arm:1.0.0").GetProperty("architecture").GetString());
        Assert.Equal("amd64", ImageConfig(fixture, "api:1.0.0").GetProperty("architecture").GetString());
        var rootfs = Path.Combine(Unpack(fixture, umoci, "api-arm:1.0.0"), "rootfs");
        Assert.Equal(Aarch64, ElfMachine(Path.Combine(rootfs, "usr", "lib", "aarch64-linux-gnu", "libc.so.6")));
        Assert.Equal(Aarch64, ElfMachine(Path.Combine(rootfs, "lib", "ld-linux-aarch64.so.1")));
        Assert.False(Directory.Exists(Path.Combine(rootfs, "usr", "lib", "x86_64-linux-gnu")), "the arm64 image holds amd64 libraries");
        Assert.Contains("Architecture: arm64", File.ReadAllText(Path.Combine(rootfs, "var", "lib", "dpkg", "status.d", "libc6")), StringComparison.Ordinal);

        // The Kiln manifest and the SBOM name each package's architecture.
        var manifest = File.ReadAllText(Path.Combine(fixture.OutputDirectory, "manifests", "api-arm-1.0.0.json"));
        Assert.Contains("\"architecture\":\"arm64\"", manifest.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        var sbom = File.ReadAllText(Path.Combine(fixture.OutputDirectory, "sbom", "api-arm-1.0.0.cdx.json"));
        Assert.Contains("pkg:deb/debian/libc6@", sbom, StringComparison.Ordinal);
        Assert.Contains("?arch=arm64", sbom, StringComparison.Ordinal);
        Assert.DoesNotContain("?arch=amd64", sbom, StringComparison.Ordinal);

        // Determinism: from the lock and the cache alone (no mirror), both bases are assembled again to the same images.
        var before = fixture.ReadRelease().Digests;
        Directory.Delete(Path.Combine(fixture.Directory, "obj", "Debug", "kiln", "package-bases"), recursive: true);
        fixture.BuildOk(cache, "-p:KilnDebianMirror=http://127.0.0.1:9/");
        Assert.Equal(before["api-arm:1.0.0"], fixture.ReadRelease().Digests["api-arm:1.0.0"]);
        Assert.Equal(before["api:1.0.0"], fixture.ReadRelease().Digests["api:1.0.0"]);
    }

    private static Dictionary<string, JsonElement> LockedSets(FixtureProject fixture)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture.Directory, "kiln.lock.json")));
        return document.RootElement.GetProperty("packageBases").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());
    }

    private static Dictionary<string, JsonElement> Packages(JsonElement set) =>
        set.GetProperty("packages").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!, p => p);

    /// <summary>The image config of a tagged image, read from the output layout (index.json → manifest → config).</summary>
    private static JsonElement ImageConfig(FixtureProject fixture, string reference)
    {
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture.LayoutDirectory, "index.json")));
        var descriptor = index.RootElement.GetProperty("manifests").EnumerateArray()
            .Single(m => m.TryGetProperty("annotations", out var a) && a.TryGetProperty("org.opencontainers.image.ref.name", out var name) && name.GetString() == reference);
        using var manifest = JsonDocument.Parse(File.ReadAllText(Blob(fixture, descriptor.GetProperty("digest").GetString()!)));
        using var config = JsonDocument.Parse(File.ReadAllText(Blob(fixture, manifest.RootElement.GetProperty("config").GetProperty("digest").GetString()!)));
        return config.RootElement.Clone();
    }

    private static string Blob(FixtureProject fixture, string digest) =>
        Path.Combine(fixture.LayoutDirectory, "blobs", "sha256", digest["sha256:".Length..]);

    private static string Unpack(FixtureProject fixture, string umoci, string reference)
    {
        var bundle = Path.Combine(fixture.Directory, "bundle-arm64");
        var unpack = ProcessRunner.Run(umoci, ["unpack", "--image", $"{fixture.LayoutDirectory}:{reference}", bundle]);
        Assert.True(unpack.ExitCode == 0, unpack.Output);
        return bundle;
    }

    /// <summary>e_machine of an ELF file (offset 18, in the file's byte order; both architectures are little-endian).</summary>
    private static int ElfMachine(string path)
    {
        var header = new byte[20];
        using (var file = File.OpenRead(path))
        {
            file.ReadExactly(header);
        }

        Assert.True(header.AsSpan(0, 4).SequenceEqual("\u007fELF"u8), $"{path} is not an ELF file");
        return BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(18, 2));
    }
}
