using System.Diagnostics;
using System.Formats.Tar;
using System.Text.Json;
using Kiln.Integration.Tests.Infrastructure;
using Kiln.Oci;
using Kiln.Tests.Registry;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// Multi-platform images at a real CNCF registry and as bases: an image index (written here with Kiln.Oci, as a
/// multi-platform build writes one) pushed by `kiln push` and read back per platform by skopeo; `kiln pull --platform`;
/// and registry, archive and layout bases that are indexes, each giving the build the image of its platform.
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class MultiPlatformRegistryTests(KilnPackage package) : IDisposable
{
    private const string NoteType = "application/vnd.kiln.test.note+json";
    private readonly string _temp = Directory.CreateTempSubdirectory("kiln-multiplatform-it-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private string Cache => Path.Combine(_temp, "cache");

    private Dictionary<string, string?> Environment() => new()
    {
        ["KILN_CACHE"] = Cache,
        ["DOCKER_CONFIG"] = Path.Combine(_temp, "docker"),
        ["KILN_REGISTRY_USERNAME"] = null,
        ["KILN_REGISTRY_PASSWORD"] = null,
    };

    [SkippableFact]
    public void KilnPush_TwoPlatformIndex_SkopeoReadsEachPlatform_TagsNameTheIndex_ThenAnotherIndexIsRefused()
    {
        var skopeo = Tools.Require("skopeo", "skopeo");
        Tools.Require("docker-registry", "docker-registry");
        using var registry = RegistryServer.Start();
        var (output, written) = BuildOutput("first", TestIndex.Amd64, TestIndex.Arm64);
        var arm = written.For(TestIndex.Arm64);
        var note = AttachNote(OciLayout.Open(Path.Combine(output, "oci")), arm.Manifest);
        EnsureEngine();

        var push = KilnCli.Run(package, _temp, "push", output, "--registry", registry.Host, "--repository-prefix", "kiln-it", "--tag", "main", "--quiet");

        Assert.True(push.ExitCode == 0, push.Output);
        var remote = $"docker://{registry.Host}/kiln-it/multi:1.0.0";
        foreach (var image in written.Images)
        {
            var config = RunBytes(skopeo, "inspect", "--tls-verify=false", "--config", "--raw", "--override-os", "linux", "--override-arch", image.Platform.Architecture, remote);
            Assert.Equal(image.Config, Digest.Sha256(config));
            var inspect = ProcessRunner.Run(skopeo, ["inspect", "--tls-verify=false", "--override-os", "linux", "--override-arch", image.Platform.Architecture, remote]);
            Assert.True(inspect.ExitCode == 0, inspect.Output);
            var layers = JsonDocument.Parse(inspect.Output).RootElement.GetProperty("Layers").EnumerateArray().Select(l => l.GetString()).ToList();
            Assert.Equal(image.Image.Layers.Select(l => l.Digest.ToString()), layers);
        }

        Assert.NotEqual(written.Images[0].Config, written.Images[1].Config);
        using var raw = JsonDocument.Parse(RunBytes(skopeo, "inspect", "--tls-verify=false", "--raw", remote));
        Assert.Equal(MediaTypes.ImageIndex, raw.RootElement.GetProperty("mediaType").GetString());
        Assert.Equal(
            written.Images.Select(i => (i.Manifest.Digest.ToString(), i.Platform.Architecture)),
            raw.RootElement.GetProperty("manifests").EnumerateArray().Select(m => (m.GetProperty("digest").GetString()!, m.GetProperty("platform").GetProperty("architecture").GetString()!)));

        using var client = new Kiln.Oci.Registry.RegistryClient(registry.Host);
        Assert.Equal(written.Index.Digest, client.HeadManifestAsync("kiln-it/multi", "1.0.0").GetAwaiter().GetResult()!.Digest);
        Assert.Equal(written.Index.Digest, client.HeadManifestAsync("kiln-it/multi", "main").GetAwaiter().GetResult()!.Digest);
        Assert.Contains(client.GetReferrersAsync("kiln-it/multi", arm.Manifest.Digest).GetAwaiter().GetResult(), r => r.Digest == note.Digest);
        Assert.Contains($"{registry.Host}/kiln-it/multi:1.0.0@{written.Index.Digest}", File.ReadAllText(Path.Combine(output, "release.json")));

        // The same name:version, other content (the platforms in the other order): the version tag is not moved.
        var (second, other) = BuildOutput("second", TestIndex.Arm64, TestIndex.Amd64);
        Assert.NotEqual(written.Index.Digest, other.Index.Digest);

        var refused = KilnCli.Run(package, _temp, "push", second, "--registry", registry.Host, "--repository-prefix", "kiln-it", "--quiet");

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("KILN1060", refused.Output);
        Assert.Contains($"{registry.Host}/kiln-it/multi:1.0.0 already names {written.Index.Digest}", refused.Output);
        Assert.Contains($"is {other.Index.Digest}", refused.Output);
        Assert.Equal(written.Index.Digest, client.HeadManifestAsync("kiln-it/multi", "1.0.0").GetAwaiter().GetResult()!.Digest);
        Assert.False(client.ManifestExistsAsync("kiln-it/multi", other.Index.Digest.ToString()).GetAwaiter().GetResult(), "a refused push writes no index");
    }

    [SkippableFact]
    public void KilnPull_Platform_ChoosesTheImageOutOfAnIndex_AndAMissingOrWrongPlatformIsCoded()
    {
        Tools.Require("docker-registry", "docker-registry");
        using var registry = RegistryServer.Start();
        var (multi, written) = PushIndex(registry, "bases/multi:1", TestIndex.Amd64, TestIndex.Arm64);
        var (single, armOnly) = PushIndex(registry, "bases/arm-only:1", TestIndex.Arm64);
        var armManifest = armOnly.Images[0].Manifest.Digest;
        var plainArm = $"{registry.Host}/bases/arm-only:1@{armManifest}";
        EnsureEngine();

        var arm = KilnCli.Run(package, _temp, "pull", multi, "--platform", "linux/arm64", "--cache-dir", Cache, "--json");
        var amd = KilnCli.Run(package, _temp, "pull", multi, "--cache-dir", Cache, "--json");
        var armOffline = KilnCli.Run(package, _temp, "pull", multi, "--platform", "linux/arm64/v8", "--cache-dir", Cache, "--offline", "--json");
        var missing = KilnCli.Run(package, _temp, "pull", single, "--cache-dir", Cache);
        var wrongArchitecture = KilnCli.Run(package, _temp, "pull", plainArm, "--cache-dir", Cache);
        var badPlatform = KilnCli.Run(package, _temp, "pull", multi, "--platform", "arm64", "--cache-dir", Cache);

        Assert.True(arm.ExitCode == 0, arm.Output);
        Assert.Contains($"\"digest\": \"{written.For(TestIndex.Arm64).Manifest.Digest}\"", arm.Output);
        Assert.Contains("\"platform\": \"linux/arm64\"", arm.Output);
        Assert.True(amd.ExitCode == 0, amd.Output);
        Assert.Contains($"\"digest\": \"{written.For(TestIndex.Amd64).Manifest.Digest}\"", amd.Output);
        Assert.True(armOffline.ExitCode == 0, armOffline.Output);
        Assert.Contains($"\"digest\": \"{written.For(TestIndex.Arm64).Manifest.Digest}\"", armOffline.Output);
        var cache = OciLayout.Open(Path.Combine(Cache, "oci"));
        Assert.All(written.Images, i => Assert.True(cache.Contains(i.Config), $"the {i.Platform} config is cached"));

        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("KILN2160", missing.Output);
        Assert.Contains("without an image for linux/amd64; it has: linux/arm64", missing.Output);
        Assert.NotEqual(0, wrongArchitecture.ExitCode);
        Assert.Contains("KILN2161", wrongArchitecture.Output);
        Assert.Contains($"({armManifest}) is an image for linux/arm64, not linux/amd64", wrongArchitecture.Output);
        Assert.NotEqual(0, badPlatform.ExitCode);
        Assert.Contains("KILN5030", badPlatform.Output);
        Assert.DoesNotContain("   at ", missing.Output + wrongArchitecture.Output + badPlatform.Output);
    }

    [SkippableFact]
    public void Build_RegistryAndArchiveBasesThatAreIndexes_UseTheAmd64Image_AndALayoutWithoutItIsKILN2160()
    {
        Tools.Require("docker-registry", "docker-registry");
        using var registry = RegistryServer.Start();
        var (reference, fromRegistry) = PushIndex(registry, "bases/multi:1", TestIndex.Amd64, TestIndex.Arm64);
        var fixture = new FixtureProject(package);
        var archiveLayout = OciLayout.OpenOrCreate(Path.Combine(fixture.Directory, "archive-layout"));
        var inArchive = TestIndex.Write(archiveLayout, "multi:1", TestIndex.Arm64, TestIndex.Amd64);
        Directory.Delete(Path.Combine(archiveLayout.Root, OciLayout.TempDirectoryName), recursive: true);
        TarFile.CreateFromDirectory(archiveLayout.Root, Path.Combine(fixture.Directory, "multi.oci.tar"), includeBaseDirectory: false);
        Directory.Delete(archiveLayout.Root, recursive: true);
        fixture.Write("greeting", "hello\n").Specs($$"""
            public sealed class FromRegistry : ServerSpec
            {
                public override string Name => "from-registry";
                public override string Version => "1.0.0";
                public override BaseImage Base => BaseImage.Registry("{{reference}}");
                public override ImmutableArray<Layer> Layers => [Layer.File("greeting", to: "/etc/greeting")];
                public override Entrypoint Entrypoint => new("/bin/true");
            }

            public sealed class FromArchive : ServerSpec
            {
                public override string Name => "from-archive";
                public override string Version => "1.0.0";
                public override BaseImage Base => BaseImage.Archive("multi.oci.tar", "multi:1");
                public override ImmutableArray<Layer> Layers => [Layer.File("greeting", to: "/etc/greeting")];
                public override Entrypoint Entrypoint => new("/bin/true");
            }
            """);

        var built = fixture.Build(Environment());

        Assert.True(built.ExitCode == 0, built.Output);
        var layout = OciLayout.Open(fixture.LayoutDirectory);
        foreach (var (name, source) in new[] { ("from-registry:1.0.0", fromRegistry), ("from-archive:1.0.0", inArchive) })
        {
            var image = layout.ReadManifest(layout.FindManifest(name)!.Digest);
            var amd64 = source.For(TestIndex.Amd64).Image;
            Assert.Equal(amd64.Layers.Select(l => l.Digest), image.Layers.Take(amd64.Layers.Length).Select(l => l.Digest));
            Assert.Equal("amd64", layout.ReadConfig(image.Config.Digest).Architecture);
        }

        var armOnly = new FixtureProject(package);
        TestIndex.Write(OciLayout.OpenOrCreate(Path.Combine(armOnly.Directory, "base")), "multi:1", TestIndex.Arm64);
        armOnly.Write("greeting", "hello\n").Specs("""
            public sealed class FromLayout : ServerSpec
            {
                public override string Name => "from-layout";
                public override string Version => "1.0.0";
                public override BaseImage Base => BaseImage.OciLayout("base", "multi:1");
                public override ImmutableArray<Layer> Layers => [Layer.File("greeting", to: "/etc/greeting")];
                public override Entrypoint Entrypoint => new("/bin/true");
            }
            """);

        var refused = armOnly.Build(Environment());

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("KILN2160", refused.Output);
        Assert.Contains("base 'base' is a multi-platform image without an image for linux/amd64; it has: linux/arm64", refused.Output);
        Assert.False(File.Exists(armOnly.ReleasePath), "no release for a refused base");
    }

    /// <summary>A build's output directory as `kiln push` reads it: the layout with the index tagged multi:1.0.0, and a release.json listing it.</summary>
    private (string Output, TestIndex Index) BuildOutput(string name, params Platform[] platforms)
    {
        var output = Path.Combine(_temp, name);
        var written = TestIndex.Write(OciLayout.OpenOrCreate(Path.Combine(output, "oci")), "multi:1.0.0", platforms);
        var config = written.Images[0].Config;
        File.WriteAllText(Path.Combine(output, "release.json"), $$"""
            {
              "kind": "KilnRelease",
              "schemaVersion": 1,
              "layout": "oci",
              "images": [
                {
                  "name": "multi",
                  "version": "1.0.0",
                  "reference": "multi:1.0.0",
                  "digest": "{{written.Index.Digest}}",
                  "mediaType": "{{MediaTypes.ImageIndex}}",
                  "size": {{written.Index.Size}},
                  "configDigest": "{{config}}",
                  "manifest": "manifests/multi-1.0.0.json",
                  "manifestContentDigest": "{{config}}",
                  "inventory": "inventory/multi-1.0.0.txt"
                }
              ]
            }
            """);
        return (output, written);
    }

    /// <summary>An artifact in the layout whose subject is <paramref name="subject"/>, as Kiln stores an attestation.</summary>
    private static Descriptor AttachNote(OciLayout layout, Descriptor subject)
    {
        var empty = layout.WriteBlob("{}"u8, MediaTypes.EmptyJson);
        var body = layout.WriteBlob("{\"note\":\"built for arm64\"}"u8, NoteType);
        var artifact = new ImageManifest { ArtifactType = NoteType, Config = empty, Layers = [body], Subject = new Descriptor(subject.MediaType, subject.Digest, subject.Size) };
        return layout.WriteBlob(artifact.ToJson(), MediaTypes.ImageManifest);
    }

    /// <summary>Writes a multi-platform image and copies it (--all) to the registry with skopeo; returns the pinned reference.</summary>
    private (string Reference, TestIndex Index) PushIndex(RegistryServer registry, string repositoryAndTag, params Platform[] platforms)
    {
        var skopeo = Tools.Require("skopeo", "skopeo");
        var path = Path.Combine(_temp, "src-" + repositoryAndTag.Replace('/', '-').Replace(':', '-'));
        var written = TestIndex.Write(OciLayout.OpenOrCreate(path), "multi:1", platforms);
        var copy = ProcessRunner.Run(skopeo, ["copy", "--all", "--preserve-digests", "--dest-tls-verify=false", $"oci:{path}:multi:1", $"docker://{registry.Host}/{repositoryAndTag}"]);
        Assert.True(copy.ExitCode == 0, copy.Output);
        return ($"{registry.Host}/{repositoryAndTag}@{written.Index.Digest}", written);
    }

    /// <summary>A tool's standard output as bytes (a raw document hashes to its digest only byte for byte).</summary>
    private static byte[] RunBytes(string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        using var output = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(output);
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{tool} {string.Join(' ', arguments)}: {error.Result}");
        return output.ToArray();
    }

    /// <summary>The packed engine comes into the test's package cache with a restore; these CLI tests build nothing.</summary>
    private void EnsureEngine()
    {
        if (Directory.Exists(Path.Combine(package.Packages, "kiln.build")))
        {
            return;
        }

        var restore = new FixtureProject(package).Specs("").Build(Environment(), "-t:Restore");
        Assert.True(restore.ExitCode == 0, restore.Output);
    }
}
