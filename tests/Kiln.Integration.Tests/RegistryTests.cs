using System.Text.Json;
using Kiln.Integration.Tests.Infrastructure;
using Kiln.Oci;
using Kiln.Tests.Registry;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// Registries end to end: `dotnet build -t:KilnPush` to a real CNCF registry on 127.0.0.1, bases pulled by digest into
/// the cache (and used offline), basic auth from a temporary config.json, and the faults users hit.
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class RegistryTests(KilnPackage package) : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("kiln-registry-it-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private string Cache => Path.Combine(_temp, "cache");

    private string DockerConfig => Path.Combine(_temp, "docker");

    private Dictionary<string, string?> Environment() => IsolatedEnvironment.For(_temp);

    [SkippableFact]
    public void KilnPush_FixtureImages_SkopeoSeesSameDigests_AndSecondPushUploadsZeroBytes()
    {
        var skopeo = Tools.Require("skopeo", "skopeo");
        using var registry = RegistryServer.Start();
        var fixture = BuildTests.TwoServerFixture(package);

        var first = fixture.Build(Environment(), "-t:KilnPush", $"-p:KilnRegistry={registry.Host}", "-p:KilnRepositoryPrefix=kiln-it");

        Assert.True(first.ExitCode == 0, first.Output);
        var release = fixture.ReadRelease();
        Assert.Equal(2, release.Digests.Count);
        foreach (var (reference, digest) in release.Digests)
        {
            var remote = $"docker://{registry.Host}/kiln-it/{reference}";
            var inspect = ProcessRunner.Run(skopeo, ["inspect", "--tls-verify=false", remote]);
            Assert.True(inspect.ExitCode == 0, inspect.Output);
            Assert.Equal(digest, JsonDocument.Parse(inspect.Output).RootElement.GetProperty("Digest").GetString());

            var copy = Path.Combine(_temp, "copy-" + reference.Replace(':', '-'));
            var copied = ProcessRunner.Run(skopeo, ["copy", "--src-tls-verify=false", remote, $"oci:{copy}:{reference}"]);
            Assert.True(copied.ExitCode == 0, copied.Output);
            Assert.Equal(Digest.Parse(digest), OciLayout.Open(copy).FindManifest(reference)!.Digest);
            Assert.Contains($"{registry.Host}/kiln-it/{reference}@{digest}", release.Text);
        }

        Assert.Contains("uploaded", first.Output);

        var second = fixture.Build(Environment(), "-t:KilnPush", $"-p:KilnRegistry={registry.Host}", "-p:KilnRepositoryPrefix=kiln-it");

        Assert.True(second.ExitCode == 0, second.Output);
        Assert.Contains("2 image(s) pushed; 0 blob(s) uploaded (0 bytes)", second.Output);
        Assert.Contains(" exists", second.Output); // a line per blob at normal verbosity
    }

    [SkippableFact]
    public void RegistryBase_PushedBySkopeo_PulledByDigestAndUsed_ThenBuiltFromCacheWithRegistryStopped()
    {
        var busybox = Tools.Require("busybox", "busybox-static");
        using var registry = RegistryServer.Start();
        var (reference, baseManifest) = PushBusyboxBase(registry, busybox);
        var fixture = BaseFixture(reference, "v1");

        var first = fixture.Build(Environment());

        Assert.True(first.ExitCode == 0, first.Output);
        var built = ReadImage(fixture, "hello:1.0.0");
        Assert.Equal(baseManifest.Layers[0].Digest, built.Layers[0].Digest);
        Assert.True(OciLayout.Open(Path.Combine(Cache, "oci")).Contains(baseManifest.Layers[0].Digest), "the base layer is in the shared cache");

        registry.Stop();
        fixture.Write("greeting", "changed\n");
        var offline = fixture.Build(Environment());

        Assert.True(offline.ExitCode == 0, "a cached, pinned base needs no network:\n" + offline.Output);
        Assert.Equal(baseManifest.Layers[0].Digest, ReadImage(fixture, "hello:1.0.0").Layers[0].Digest);
    }

    [SkippableFact]
    public void RegistryBase_BasicAuth_401WithoutCredentialsNamesRegistryAndSources_ThenConfigJsonWorks()
    {
        using var registry = StartRegistryWithPassword(out var reference);
        var fixture = BaseFixture(reference, "v1");

        var denied = fixture.Build(Environment());

        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains("KILN1002", denied.Output);
        Assert.Contains(registry.Host, denied.Output);
        Assert.Contains(Path.Combine(DockerConfig, "config.json"), denied.Output);

        Directory.CreateDirectory(DockerConfig);
        File.WriteAllText(Path.Combine(DockerConfig, "config.json"),
            "{\"auths\":{\"" + registry.Host + "\":{\"auth\":\"" + Convert.ToBase64String("kiln:it-s3cret"u8.ToArray()) + "\"}}}");
        var allowed = fixture.Build(Environment());

        Assert.True(allowed.ExitCode == 0, allowed.Output);
        Assert.DoesNotContain("it-s3cret", allowed.Output + denied.Output);
    }

    [SkippableFact]
    public void RegistryBase_CredentialsFromTheEnvironment_TheEngineServerRunsEachBuildWithItsOwnEnvironment()
    {
        using var registry = StartRegistryWithPassword(out var reference);
        // Its own XDG_RUNTIME_DIR: an engine server of this test's, which runs all three builds.
        var runtime = Directory.CreateDirectory(Path.Combine(_temp, "runtime")).FullName;
        var fixture = BaseFixture(reference, "v1").WithEnvironment("XDG_RUNTIME_DIR", runtime);
        var withoutCredentials = Environment();
        var withCredentials = new Dictionary<string, string?>(withoutCredentials)
        {
            ["KILN_REGISTRY_HOST"] = registry.Host,
            ["KILN_REGISTRY_USERNAME"] = "kiln",
            ["KILN_REGISTRY_PASSWORD"] = "it-s3cret",
        };
        int? server = null;
        try
        {
            var denied = fixture.Build(withoutCredentials);
            server = EngineServerTests.ServerProcess(denied.Output);
            Assert.NotEqual(0, denied.ExitCode);
            Assert.Contains("KILN1002", denied.Output, StringComparison.Ordinal);

            var allowed = fixture.Build(withCredentials);
            Assert.True(allowed.ExitCode == 0, allowed.Output);
            Assert.Equal(server, EngineServerTests.ServerProcess(allowed.Output));

            // Unset again, with an empty cache and a changed input: the server must not keep the last build's credentials.
            fixture.Write("greeting", "v2\n");
            var deniedAgain = fixture.Build(new Dictionary<string, string?>(withoutCredentials) { ["KILN_CACHE"] = Path.Combine(_temp, "cache2") });
            Assert.Equal(server, EngineServerTests.ServerProcess(deniedAgain.Output));
            Assert.NotEqual(0, deniedAgain.ExitCode);
            Assert.Contains("KILN1002", deniedAgain.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("it-s3cret", denied.Output + allowed.Output + deniedAgain.Output, StringComparison.Ordinal);
        }
        finally
        {
            if (server is { } pid)
            {
                EngineServerTests.Stop(pid);
            }
        }
    }

    [SkippableFact]
    public void RegistryBase_UnknownDigest_404NamesTheReference()
    {
        using var registry = RegistryServer.Start();
        var reference = $"{registry.Host}/bases/none:1@{Digest.Sha256("missing"u8)}";
        var fixture = BaseFixture(reference, "v1");

        var result = fixture.Build(Environment());

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("KILN1004", result.Output);
        Assert.Contains(reference, result.Output);
    }

    [Fact]
    public void RegistryBase_BlobWithWrongContent_RefusedAndNothingCached()
    {
        using var fake = new FakeRegistry();
        var image = TestImage.Create(4096);
        var served = fake.Serve("bases/bad", image.Manifest, image.Blobs);
        var layer = image.Manifest.Layers[0];
        var tampered = (byte[])image.Blobs[layer.Digest].Clone();
        tampered[7] ^= 0x55;
        fake.Corrupt("bases/bad", layer.Digest, tampered);
        var fixture = BaseFixture($"{fake.Host}/bases/bad:1@{served.Digest}", "v1");

        var result = fixture.Build(Environment());

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("KILN1005", result.Output);
        var blobs = Path.Combine(Cache, "oci", "blobs", "sha256");
        Assert.False(File.Exists(Path.Combine(blobs, layer.Digest.Encoded)), "the refused layer is not cached");
        Assert.False(File.Exists(Path.Combine(blobs, served.Digest.Encoded)), "no manifest is cached for an image that failed");
    }

    [Fact]
    public void RegistryBase_NotPinnedByDigest_KILN2031()
    {
        var fixture = BaseFixture("127.0.0.1:1/bases/busybox:latest", "v1");

        var result = fixture.Build(Environment());

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("KILN2031", result.Output);
    }

    [SkippableFact]
    public void Export_DockerAndOciArchives_AcceptedBySkopeo()
    {
        var skopeo = Tools.Require("skopeo", "skopeo");
        var fixture = BuildTests.TwoServerFixture(package);
        fixture.BuildOk();
        var digest = fixture.ReadRelease().Digests["fixture-api:1.2.3"];
        var engine = Path.Combine(package.Packages, "kiln.build", KilnPackage.Version, "tools", "engine", "kiln.dll");

        foreach (var format in new[] { "docker-archive", "oci-archive" })
        {
            var archive = Path.Combine(_temp, $"api.{format}.tar");
            var export = ProcessRunner.Run("dotnet", [engine, "export", fixture.LayoutDirectory, "fixture-api:1.2.3", "--format", format, "-o", archive]);
            Assert.True(export.ExitCode == 0, export.Output);

            var inspect = ProcessRunner.Run(skopeo, ["inspect", $"{format}:{archive}"]);
            Assert.True(inspect.ExitCode == 0, inspect.Output);
            if (format == "oci-archive")
            {
                Assert.Equal(digest, JsonDocument.Parse(inspect.Output).RootElement.GetProperty("Digest").GetString());
            }
        }
    }

    [SkippableFact]
    public void KilnArchiveFormat_DockerArchive_WrittenBesideLayoutAndAcceptedBySkopeo()
    {
        var skopeo = Tools.Require("skopeo", "skopeo");
        var fixture = BuildTests.TwoServerFixture(package);

        fixture.BuildOk("-p:KilnArchiveFormat=docker-archive");

        foreach (var reference in fixture.ReadRelease().Digests.Keys)
        {
            var archive = Path.Combine(fixture.OutputDirectory, "archives", $"{reference.Replace(':', '-')}.docker-archive.tar");
            Assert.True(File.Exists(archive), archive);
            var inspect = ProcessRunner.Run(skopeo, ["inspect", $"docker-archive:{archive}"]);
            Assert.True(inspect.ExitCode == 0, inspect.Output);
        }
    }

    [SkippableFact]
    public void KilnPush_CorruptLayerBlobInLayout_RefusedWithKILN1016AndNothingTagged()
    {
        using var registry = RegistryServer.Start();
        var fixture = BuildTests.TwoServerFixture(package);
        var built = fixture.Build(Environment());
        Assert.True(built.ExitCode == 0, built.Output);
        var release = fixture.ReadRelease();
        var (blob, size) = CorruptLargestLayer(fixture, "fixture-api:1.2.3");

        var push = KilnCli.Run(package, fixture.Directory, "push", fixture.OutputDirectory, "--registry", registry.Host, "--repository-prefix", "kiln-it", "--quiet");

        Assert.NotEqual(0, push.ExitCode);
        Assert.Contains("KILN1016", push.Output);
        Assert.Contains(blob.ToString(), push.Output);
        Assert.DoesNotContain("   at ", push.Output); // a coded message, not a stack trace
        using var client = new Kiln.Oci.Registry.RegistryClient(registry.Host);
        foreach (var (reference, digest) in release.Digests)
        {
            var (name, version) = (reference[..reference.IndexOf(':')], reference[(reference.IndexOf(':') + 1)..]);
            Assert.False(client.ManifestExistsAsync($"kiln-it/{name}", version).GetAwaiter().GetResult(), $"{reference} must not be tagged in the registry");
            Assert.False(client.ManifestExistsAsync($"kiln-it/{name}", digest).GetAwaiter().GetResult(), $"{reference}'s manifest must not be in the registry");
        }

        Assert.False(client.BlobExistsAsync("kiln-it/fixture-api", blob).GetAwaiter().GetResult(), $"the corrupt blob ({size} bytes) never completed its upload");
    }

    [SkippableFact]
    public void KilnPush_VersionTagHeldByAnotherDigest_KILN1060BeforeAnyUpload_ThenOverwriteIsReported()
    {
        using var registry = RegistryServer.Start();
        var first = BuildTests.TwoServerFixture(package);
        var pushed = first.Build(Environment(), "-t:KilnPush", $"-p:KilnRegistry={registry.Host}", "-p:KilnRepositoryPrefix=kiln-it", "-p:KilnExtraTags=git-0a1b2c%3Bmain");
        Assert.True(pushed.ExitCode == 0, pushed.Output);
        var original = Digest.Parse(first.ReadRelease().Digests["fixture-api:1.2.3"]);

        // Same specs, other content: the same name:version now means another image.
        var second = BuildTests.TwoServerFixture(package).Write("files/settings.json", "{ \"mode\": \"staging\" }\n");
        var built = second.Build(Environment());
        Assert.True(built.ExitCode == 0, built.Output);
        var changed = Digest.Parse(second.ReadRelease().Digests["fixture-api:1.2.3"]);
        Assert.NotEqual(original, changed);
        var newBlobs = ReadImage(second, "fixture-api:1.2.3").Layers.Select(l => l.Digest).Except(ReadImage(first, "fixture-api:1.2.3").Layers.Select(l => l.Digest)).ToList();
        Assert.NotEmpty(newBlobs);

        var refused = KilnCli.Run(package, second.Directory, "push", second.OutputDirectory, "--registry", registry.Host, "--repository-prefix", "kiln-it", "--quiet");

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("KILN1060", refused.Output);
        Assert.Contains($"{registry.Host}/kiln-it/fixture-api:1.2.3 already names {original}", refused.Output);
        using var client = new Kiln.Oci.Registry.RegistryClient(registry.Host);
        Assert.Equal(original, client.HeadManifestAsync("kiln-it/fixture-api", "1.2.3").GetAwaiter().GetResult()!.Digest);
        Assert.Equal(original, client.HeadManifestAsync("kiln-it/fixture-api", "git-0a1b2c").GetAwaiter().GetResult()!.Digest);
        Assert.Equal(original, client.HeadManifestAsync("kiln-it/fixture-api", "main").GetAwaiter().GetResult()!.Digest);
        foreach (var blob in newBlobs)
        {
            Assert.False(client.BlobExistsAsync("kiln-it/fixture-api", blob).GetAwaiter().GetResult(), $"{blob} must not be uploaded by a refused push");
        }

        var repaired = KilnCli.Run(package, second.Directory, "push", second.OutputDirectory, "--registry", registry.Host, "--repository-prefix", "kiln-it", "--quiet", "--allow-tag-overwrite", "--tag", "main");

        Assert.True(repaired.ExitCode == 0, repaired.Output);
        Assert.Contains("warning KILN1061", repaired.Output);
        Assert.Contains($"moved from {original} to {changed}", repaired.Output);
        Assert.Equal(changed, client.HeadManifestAsync("kiln-it/fixture-api", "1.2.3").GetAwaiter().GetResult()!.Digest);
        Assert.Equal(changed, client.HeadManifestAsync("kiln-it/fixture-api", "main").GetAwaiter().GetResult()!.Digest);
        Assert.Equal(original, client.HeadManifestAsync("kiln-it/fixture-api", "git-0a1b2c").GetAwaiter().GetResult()!.Digest);
    }

    [SkippableFact]
    public void KilnPush_ExtraTagShapedLikeAVersion_KILN1062AndNothingPushed()
    {
        using var registry = RegistryServer.Start();
        var fixture = BuildTests.TwoServerFixture(package);

        var push = fixture.Build(Environment(), "-t:KilnPush", $"-p:KilnRegistry={registry.Host}", "-p:KilnRepositoryPrefix=kiln-it", "-p:KilnExtraTags=2.0.0");

        Assert.NotEqual(0, push.ExitCode);
        Assert.Contains("KILN1062", push.Output);
        Assert.Contains("'2.0.0' looks like a version", push.Output);
        using var client = new Kiln.Oci.Registry.RegistryClient(registry.Host);
        Assert.False(client.ManifestExistsAsync("kiln-it/fixture-api", "1.2.3").GetAwaiter().GetResult());
    }

    [SkippableFact]
    public void KilnExport_CorruptLayerBlobInLayout_RefusedWithKILN1016AndNoArchiveLeft()
    {
        var fixture = BuildTests.TwoServerFixture(package);
        var built = fixture.Build(Environment());
        Assert.True(built.ExitCode == 0, built.Output);
        var (blob, _) = CorruptLargestLayer(fixture, "fixture-api:1.2.3");
        var archives = Path.Combine(_temp, "archives");
        Directory.CreateDirectory(archives);

        foreach (var format in new[] { "oci-archive", "docker-archive" })
        {
            var archive = Path.Combine(archives, $"api.{format}.tar");
            var export = KilnCli.Run(package, fixture.Directory, "export", fixture.LayoutDirectory, "fixture-api:1.2.3", "--format", format, "-o", archive);

            Assert.NotEqual(0, export.ExitCode);
            Assert.Contains("KILN1016", export.Output);
            Assert.Contains(blob.ToString(), export.Output);
        }

        Assert.Empty(Directory.EnumerateFileSystemEntries(archives)); // neither an archive nor a temp file
    }

    [SkippableFact]
    public void KilnPull_RepositoryThatDoesNotExist_KILN1017EvenWhenTheDigestIsCached()
    {
        using var registry = RegistryServer.Start();
        var image = TestImage.Create(3000, 5000);
        using (var client = new Kiln.Oci.Registry.RegistryClient(registry.Host))
        {
            foreach (var blob in image.BlobDescriptors)
            {
                client.PushBlobAsync("bases/real", blob, () => new MemoryStream(image.Blobs[blob.Digest])).GetAwaiter().GetResult();
            }

            client.PutManifestAsync("bases/real", "1", MediaTypes.ImageManifest, image.ManifestBytes).GetAwaiter().GetResult();
        }

        EnsureEngine();

        var real = KilnCli.Run(package, _temp, "pull", $"{registry.Host}/bases/real:1@{image.Digest}", "--cache-dir", Cache);
        var cachedAgain = KilnCli.Run(package, _temp, "pull", $"{registry.Host}/bases/real:1@{image.Digest}", "--cache-dir", Cache);
        var missing = KilnCli.Run(package, _temp, "pull", $"{registry.Host}/bases/does-not-exist:1@{image.Digest}", "--cache-dir", Cache);

        Assert.True(real.ExitCode == 0, real.Output);
        Assert.True(cachedAgain.ExitCode == 0, cachedAgain.Output);
        Assert.True(OciLayout.Open(Path.Combine(Cache, "oci")).Contains(image.Digest), "the image is cached");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("KILN1017", missing.Output);
        Assert.Contains("bases/does-not-exist", missing.Output);
    }

    [Fact]
    public void KilnPull_RegistryThrottlingEverySecondRequestWithRetryAfter1_Succeeds()
    {
        using var fake = new FakeRegistry();
        var image = TestImage.Create(3000, 5000);
        fake.Serve("bases/throttled", image.Manifest, image.Blobs);
        fake.ThrottleRetryAfter = "1";
        fake.ThrottleEvery = 2;
        EnsureEngine();

        var pull = KilnCli.Run(package, _temp, "pull", $"{fake.Host}/bases/throttled:1@{image.Digest}", "--cache-dir", Cache);

        Assert.True(pull.ExitCode == 0, pull.Output);
        Assert.True(fake.Throttled >= 2, $"the registry throttled {fake.Throttled} requests");
        Assert.True(OciLayout.Open(Path.Combine(Cache, "oci")).Contains(image.Digest));
    }

    /// <summary>Flips one byte in the middle of the image's largest layer blob (its size unchanged): a disk that lied.</summary>
    private static (Digest Digest, long Size) CorruptLargestLayer(FixtureProject fixture, string reference)
    {
        var layout = OciLayout.Open(fixture.LayoutDirectory);
        var layer = layout.ReadManifest(layout.FindManifest(reference)!.Digest).Layers.MaxBy(l => l.Size)!;
        var path = layout.GetBlobPath(layer.Digest);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = file.Length / 2;
            var value = file.ReadByte();
            file.Position = file.Length / 2;
            file.WriteByte((byte)(value ^ 0x5A));
        }

        return (layer.Digest, layer.Size);
    }

    /// <summary>The packed engine comes into the test's package cache with a restore; the pull tests build nothing.</summary>
    private void EnsureEngine()
    {
        if (Directory.Exists(Path.Combine(package.Packages, "kiln.build")))
        {
            return;
        }

        var restore = new FixtureProject(package).Specs("").Build(Environment(), "-t:Restore");
        Assert.True(restore.ExitCode == 0, restore.Output);
    }

    /// <summary>A registry that takes only kiln / it-s3cret (basic auth), with the busybox base pushed to it: its pinned <paramref name="reference"/>.</summary>
    private RegistryServer StartRegistryWithPassword(out string reference)
    {
        var busybox = Tools.Require("busybox", "busybox-static");
        Tools.Require("htpasswd", "apache2-utils");
        var htpasswd = RegistryServer.Htpasswd(Path.Combine(_temp, "auth"), "kiln", "it-s3cret")!;
        var registry = RegistryServer.Start(htpasswd);
        try
        {
            (reference, _) = PushBusyboxBase(registry, busybox, "--dest-creds=kiln:it-s3cret");
            return registry;
        }
        catch
        {
            registry.Dispose(); // stopped by its PID even when the push fails
            throw;
        }
    }

    /// <summary>Pushes the busybox layout to the registry with skopeo; returns the pinned reference and the manifest.</summary>
    private (string Reference, ImageManifest Manifest) PushBusyboxBase(RegistryServer registry, string busybox, params string[] extra)
    {
        var skopeo = Tools.Require("skopeo", "skopeo");
        var layoutPath = Path.Combine(_temp, "busybox-layout");
        BusyboxLayout.Create(layoutPath, busybox);
        var layout = OciLayout.Open(layoutPath);
        var manifest = layout.FindManifest(BusyboxLayout.Reference)!;
        var copy = ProcessRunner.Run(skopeo, ["copy", "--dest-tls-verify=false", .. extra, $"oci:{layoutPath}:{BusyboxLayout.Reference}", $"docker://{registry.Host}/bases/busybox:static"]);
        Assert.True(copy.ExitCode == 0, copy.Output);
        return ($"{registry.Host}/bases/busybox:static@{manifest.Digest}", layout.ReadManifest(manifest.Digest));
    }

    private FixtureProject BaseFixture(string reference, string greeting) =>
        new FixtureProject(package)
            .Write("greeting", greeting + "\n")
            .Specs($$"""
                public sealed class Hello : ServerSpec
                {
                    public override string Name => "hello";
                    public override string Version => "1.0.0";
                    public override BaseImage Base => BaseImage.Registry("{{reference}}");
                    public override ImmutableArray<Layer> Layers => [Layer.File("greeting", to: "/etc/greeting")];
                    public override Account Account => Account.NonRoot("hello", 10001);
                    public override Entrypoint Entrypoint => new("/bin/cat", "/etc/greeting");
                }
                """);

    private static ImageManifest ReadImage(FixtureProject fixture, string reference)
    {
        var layout = OciLayout.Open(fixture.LayoutDirectory);
        return layout.ReadManifest(layout.FindManifest(reference)!.Digest);
    }
}
