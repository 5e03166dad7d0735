using System.Text.Json;
using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>Debian package bases against the real archive this machine's apt uses: contents, pins, offline rebuilds, bad names.</summary>
[Collection(KilnCollection.Name)]
public sealed class PackageBaseTests(KilnPackage package)
{
    [SkippableFact]
    public void ShopApi_PackageBase_HasNoShellAndStatusEntriesListExactlyTheLockedPackages()
    {
        var umoci = Tools.Require("umoci", "umoci");
        var shop = ShopSample.Build(package);

        var rootfs = Path.Combine(ShopSample.Unpack(shop, umoci, "contents"), "rootfs");
        var locked = LockedPackages(shop);

        Assert.False(File.Exists(Path.Combine(rootfs, "bin", "sh")) || File.Exists(Path.Combine(rootfs, "usr", "bin", "sh")), "the image has a shell");
        Assert.False(File.Exists(Path.Combine(rootfs, "usr", "bin", "dpkg")) || File.Exists(Path.Combine(rootfs, "usr", "bin", "apt")), "the image has a package manager");
        // The dynamic loader resolves through the merged-/usr links.
        Assert.True(File.Exists(Path.Combine(rootfs, "lib64", "ld-linux-x86-64.so.2")));
        var statusDirectory = Path.Combine(rootfs, "var", "lib", "dpkg", "status.d");
        var entries = Directory.GetFiles(statusDirectory).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(locked.Keys.Order(StringComparer.Ordinal), entries);
        foreach (var (name, version) in locked)
        {
            var status = File.ReadAllText(Path.Combine(statusDirectory, name));
            Assert.Contains($"Package: {name}\nStatus: install ok installed\n", status, StringComparison.Ordinal);
            Assert.Contains($"\nVersion: {version}\n", status, StringComparison.Ordinal);
        }

        foreach (var required in new[] { "libc6", "libgcc-s1", "libstdc++6", "zlib1g", "ca-certificates" })
        {
            Assert.Contains(required, locked.Keys);
        }

        Assert.Contains("shop:x:10001:10001:", File.ReadAllText(Path.Combine(rootfs, "etc", "passwd")), StringComparison.Ordinal);
        Assert.True(new FileInfo(Path.Combine(rootfs, "etc", "ssl", "certs", "ca-certificates.crt")).Length > 100_000);
        // The Kiln manifest lists the same packages.
        var manifest = File.ReadAllText(Path.Combine(shop.OutputDirectory, "manifests", ShopSample.ApiReference(shop).Replace(':', '-') + ".json"));
        Assert.All(locked.Keys, name => Assert.Contains($"\"{name}\"", manifest, StringComparison.Ordinal));
    }

    [SkippableFact]
    public void ShopApi_SecondBuildWithUnreachableMirror_ComesFromTheCacheWithTheSameDigest()
    {
        var shop = ShopSample.Build(package);
        var before = shop.ReadRelease().Digests[ShopSample.ApiReference(shop)];
        // Drop the built base, so that it must be rebuilt from the locked set and the cached .debs.
        Directory.Delete(Path.Combine(shop.Directory, "obj", "Debug", "kiln", "package-bases"), recursive: true);

        shop.BuildOk($"-p:KilnCacheDirectory={ShopSample.CacheDirectory(package)}", "-p:KilnDebianMirror=http://127.0.0.1:9/");

        Assert.Equal(before, shop.ReadRelease().Digests[ShopSample.ApiReference(shop)]);
    }

    [SkippableFact]
    public void ShopApi_BuildNarrowedToOnePlatform_KeepsTheOtherArchitecturesPackageSet()
    {
        var shop = ShopSample.Build(package);
        var lockPath = Path.Combine(shop.Directory, "kiln.lock.json");
        var before = File.ReadAllText(lockPath);
        Assert.Contains("bookworm/arm64: ", before, StringComparison.Ordinal);
        try
        {
            // A build of linux/amd64 alone resolves only the amd64 set: the arm64 one is not unused, just not built.
            shop.BuildOk($"-p:KilnCacheDirectory={ShopSample.CacheDirectory(package)}", "-p:KilnPlatforms=linux/amd64");

            Assert.Equal(before, File.ReadAllText(lockPath));
        }
        finally
        {
            shop.BuildOk($"-p:KilnCacheDirectory={ShopSample.CacheDirectory(package)}"); // every platform again, for the other tests
        }
    }

    [SkippableFact]
    public void DebianBase_UnknownPackage_FailsWithKILN2040SuggestingCloseNames()
    {
        var fixture = new FixtureProject(package, "BadPackage").Specs("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override BaseImage Base => BaseImage.Debian("bookworm", ["libstdc++"]);
                public override ImmutableArray<Layer> Layers => [];
                public override Entrypoint Entrypoint => new("/app/api");
            }
            """);
        var cache = Path.Combine(fixture.Directory, "cache");

        var result = fixture.Build($"-p:KilnCacheDirectory={cache}");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("KILN2040", result.Output, StringComparison.Ordinal);
        Assert.Contains("libstdc++6", result.Output, StringComparison.Ordinal);
        Assert.Empty(Directory.Exists(cache) ? Directory.GetFiles(cache, "*", SearchOption.AllDirectories) : []);
        Assert.False(Directory.Exists(fixture.LayoutDirectory) && Directory.EnumerateFiles(fixture.LayoutDirectory, "*", SearchOption.AllDirectories).Any(f => f.Contains("blobs", StringComparison.Ordinal)));
    }

    private static Dictionary<string, string> LockedPackages(FixtureProject fixture)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture.Directory, "kiln.lock.json")));
        // The sample is built for two platforms, so the lock holds a package set per architecture: the unpacked
        // image is the amd64 one.
        var set = document.RootElement.GetProperty("packageBases").EnumerateObject().Single(s => s.Value.GetProperty("architecture").GetString() == "amd64").Value;
        return set.GetProperty("packages").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("version").GetString()!);
    }
}
