using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Kiln.Integration.Tests.Infrastructure;
using Kiln.Oci;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// The CLI on multi-platform images (an OCI image index tagged name:version, one manifest per platform): kiln inspect
/// lists the platforms and shows one with --platform; kiln run picks the machine's platform, or another with --platform,
/// and runs linux/arm64 on an x64 machine only with --emulate. The judges are containerd (accepts the two-platform
/// archive) and qemu-user (runs the arm64 program from the arm64 image's own root).
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class MultiPlatformCliTests(KilnPackage package)
{
    private const int Failed = 16;
    private const string Reference = "hello:1.0.0";

    [Fact]
    public void Inspect_TwoPlatformIndex_ListsEachPlatformAndShowsOneWithPlatformOption()
    {
        var directory = Directory.CreateTempSubdirectory("kiln-inspect-multi-").FullName;
        var layoutDirectory = Path.Combine(directory, "oci");
        var (index, manifests) = MultiPlatformImage.Write(layoutDirectory, Reference, MultiPlatformImage.TwoPlatforms);

        var text = Kiln("inspect", layoutDirectory, Reference);
        Assert.Contains($"digest\t{index.Digest}", text.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"linux/amd64\t{manifests[0].Digest}\t", text.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"linux/arm64\t{manifests[1].Digest}\t", text.StandardOutput, StringComparison.Ordinal);

        using (var json = Json(Kiln("inspect", layoutDirectory, Reference, "--json")))
        {
            var root = json.RootElement;
            Assert.Equal(Reference, root.GetProperty("image").GetString());
            Assert.Equal(index.Digest.ToString(), root.GetProperty("digest").GetString());
            Assert.Equal(MediaTypes.ImageIndex, root.GetProperty("mediaType").GetString());
            var platforms = root.GetProperty("platforms").EnumerateArray().ToList();
            Assert.Equal(["linux/amd64", "linux/arm64"], platforms.Select(p => p.GetProperty("platform").GetString()));
            Assert.Equal(manifests.Select(m => m.Digest.ToString()), platforms.Select(p => p.GetProperty("digest").GetString()));
            Assert.All(platforms, p => Assert.Equal(2, p.GetProperty("layers").GetInt32()));
            var layout = OciLayout.Open(layoutDirectory);
            Assert.Equal(
                manifests.Select(m => layout.ReadManifest(m.Digest)).Select(m => m.Config.Size + m.Layers.Sum(l => l.Size)),
                platforms.Select(p => p.GetProperty("size").GetInt64()));
        }

        using (var arm64 = Json(Kiln("inspect", layoutDirectory, Reference, "--platform", "linux/arm64", "--json")))
        {
            Assert.Equal(manifests[1].Digest.ToString(), arm64.RootElement.GetProperty("digest").GetString());
            Assert.Equal("linux/arm64", arm64.RootElement.GetProperty("platform").GetString());
            Assert.Equal(index.Digest.ToString(), arm64.RootElement.GetProperty("index").GetString());
            Assert.Equal("kiln: linux/arm64", arm64.RootElement.GetProperty("layers")[1].GetProperty("createdBy").GetString());
        }

        // The same from an OCI archive of the index.
        var archive = Path.Combine(directory, "hello.tar");
        MultiPlatformImage.WriteArchive(layoutDirectory, Reference, archive);
        using (var fromArchive = Json(Kiln("inspect", archive, "--json")))
        {
            Assert.Equal(index.Digest.ToString(), fromArchive.RootElement.GetProperty("digest").GetString());
            Assert.Equal(2, fromArchive.RootElement.GetProperty("platforms").GetArrayLength());
        }

        var amd64 = Kiln("inspect", archive, Reference, "--platform", "linux/amd64");
        Assert.Contains($"digest\t{manifests[0].Digest}", amd64.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("platform\tlinux/amd64", amd64.StandardOutput, StringComparison.Ordinal);

        // A layout with a plain image beside the index: the list names every image's platforms, shared blobs counted once.
        MultiPlatformImage.Write(layoutDirectory, "single:1.0.0", MultiPlatformImage.TwoPlatforms[0]);
        var list = Kiln("inspect", layoutDirectory);
        Assert.Contains($"{Reference}\t{index.Digest}\t3\t", list.StandardOutput, StringComparison.Ordinal);
        Assert.EndsWith("\tlinux/amd64, linux/arm64", list.StandardOutput.Split('\n').Single(l => l.StartsWith(Reference, StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.EndsWith("\tlinux/amd64", list.StandardOutput.Split('\n').Single(l => l.StartsWith("single:", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("linux/s390x", "KILN5042", "linux/amd64, linux/arm64")]
    [InlineData("arm64", "KILN5043", "os/arch")]
    [InlineData("linux/", "KILN5043", "os/arch")]
    public void Inspect_PlatformNotInIndexOrMalformed_CodedErrorNothingOnStandardOutput(string platform, string code, string hint)
    {
        var directory = Directory.CreateTempSubdirectory("kiln-inspect-multi-").FullName;
        MultiPlatformImage.Write(Path.Combine(directory, "oci"), Reference, MultiPlatformImage.TwoPlatforms);

        EnsureEngine();
        var result = KilnCli.RunSeparated(package, directory, null, "inspect", "oci", Reference, "--platform", platform, "--json");

        Assert.True(result.ExitCode == Failed && result.StandardOutput.Length == 0, result.ToString());
        Assert.Contains($"error {code}:", result.StandardError, StringComparison.Ordinal);
        Assert.Contains(hint, result.StandardError, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void ContainerdImport_TwoPlatformOciArchive_StoresAndListsBothPlatforms()
    {
        var directory = Directory.CreateTempSubdirectory("kiln-ctd-multi-").FullName;
        var layoutDirectory = Path.Combine(directory, "oci");
        var (index, manifests) = MultiPlatformImage.Write(layoutDirectory, Reference, MultiPlatformImage.TwoPlatforms);
        var archive = Path.Combine(directory, "hello.tar");
        MultiPlatformImage.WriteArchive(layoutDirectory, Reference, archive);

        using var containerd = ContainerdDaemon.Start();
        // Kiln tags name:version, which containerd takes as the image name as it stands.
        Assert.Contains("unpacking hello:1.0.0", containerd.Import(archive), StringComparison.Ordinal);

        var image = containerd.Images().SingleOrDefault(i => i.Name == Reference);
        Assert.True(image.Name is not null, "ctr image ls lists no :1.0.0 image:\n" + containerd.Ctr("images", "ls"));
        Assert.Equal(index.Digest.ToString(), image.Digest);
        Assert.Equal(["linux/amd64", "linux/arm64"], image.Platforms.Order(StringComparer.Ordinal));
        var content = containerd.Content();
        var layout = OciLayout.Open(layoutDirectory);
        foreach (var manifest in manifests)
        {
            Assert.Contains(manifest.Digest.ToString(), content);
            Assert.Contains(layout.ReadManifest(manifest.Digest).Config.Digest.ToString(), content);
        }
    }

    [SkippableFact]
    public void QemuArm64_Arm64AppFromArm64Rootfs_PrintsItsArchitecture()
    {
        var qemu = QemuArm64.Require();
        var build = Arm64Build();
        var directory = Directory.CreateTempSubdirectory("kiln-qemu-").FullName;
        try
        {
            var rootfs = qemu.UnpackRootfs(build.LayoutDirectory, Arm64Reference, directory);

            var (exitCode, output) = qemu.Run(rootfs, "/app/hello", ["once"], TimeSpan.FromMinutes(3));

            Assert.True(exitCode == 0, output);
            Assert.Contains("hello from Arm64", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [SkippableFact]
    public void Run_TwoPlatformIndex_HostPlatformByDefaultArm64OnlyWithEmulate()
    {
        Skip.IfNot(System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.X64, "SKIPPED LOUDLY: the emulation case needs an x64 machine.");
        var busybox = Tools.Require("busybox", "busybox-static");
        Tools.Require("runc", "runc");
        QemuArm64.Require();
        var build = Arm64Build();
        var layoutDirectory = IndexOfBoth(build, busybox);

        // Default: this machine's platform (the busybox amd64 image).
        var native = RunUntil(layoutDirectory, "hello from X64");
        Assert.Contains("running linux/amd64", native, StringComparison.Ordinal);

        // linux/arm64 without --emulate: a coded error naming the platform and both ways out.
        var refused = KilnCli.RunSeparated(package, build.Directory, null, "run", Arm64Reference, "--layout", layoutDirectory, "--platform", "linux/arm64");
        Assert.True(refused.ExitCode == Failed && refused.StandardOutput.Length == 0, refused.ToString());
        Assert.Contains("error KILN5040:", refused.StandardError, StringComparison.Ordinal);
        Assert.Contains("linux/arm64", refused.StandardError, StringComparison.Ordinal);
        Assert.Contains("--platform linux/amd64", refused.StandardError, StringComparison.Ordinal);
        Assert.Contains("--emulate", refused.StandardError, StringComparison.Ordinal);

        // With --emulate: the arm64 .NET app runs under runc through qemu-aarch64-static.
        var emulated = RunUntil(layoutDirectory, "hello from Arm64", "--platform", "linux/arm64", "--emulate");
        Assert.Contains("running linux/arm64 under emulation", emulated, StringComparison.Ordinal);
    }

    private const string Arm64Reference = "hello-arm64:1.0.0";

    private static readonly Lock BuildLock = new();
    private static readonly Dictionary<KilnPackage, FixtureProject> Builds = [];

    /// <summary>
    /// The arm64 image, built once per test run by Kiln itself: a Debian bookworm arm64 base (libc6, libgcc-s1,
    /// libstdc++6, what a self-contained .NET app loads) and a console app published self-contained for linux-arm64
    /// (the one publish the tests share). It prints its architecture and, unless told "once", waits for SIGTERM.
    /// </summary>
    private FixtureProject Arm64Build()
    {
        lock (BuildLock)
        {
            if (Builds.TryGetValue(package, out var built))
            {
                return built;
            }

            var root = Path.Combine(package.Root, "projects", "arm64-" + Guid.NewGuid().ToString("N")[..8]);
            var fixture = new FixtureProject(package, "Arm64", Path.Combine(root, "specs"));
            Directory.CreateDirectory(Path.Combine(root, "hello"));
            File.WriteAllText(Path.Combine(root, "hello", "hello.csproj"), """
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <AssemblyName>hello</AssemblyName>
                    <InvariantGlobalization>true</InvariantGlobalization>
                    <!-- A console app trims safely; 22 MB instead of 85 MB keeps the layer and the emulated start small. -->
                    <PublishTrimmed>true</PublishTrimmed>
                  </PropertyGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(root, "hello", "Program.cs"), """
                System.Console.WriteLine($"hello from {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}");
                if (args is not ["once"])
                {
                    System.Threading.Thread.Sleep(System.Threading.Timeout.Infinite);
                }
                """);
            // The app restores its linux-arm64 runtime pack (and the trimmer) from NuGet, the specs Kiln from the test's feed.
            File.WriteAllText(Path.Combine(root, "hello", "nuget.config"), """
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
                  </packageSources>
                </configuration>
                """);
            fixture.Specs("""
                public sealed class Hello : ServerSpec
                {
                    public override string Name => "hello-arm64";
                    public override string Version => "1.0.0";
                    public override BaseImage Base => BaseImage.Debian("bookworm", ["libc6", "libgcc-s1", "libstdc++6"], architecture: "arm64");
                    public override ImmutableArray<Layer> Layers => [Layer.PublishOutput("../hello/hello.csproj", to: "/app", runtimeIdentifier: "linux-arm64", selfContained: true)];
                    public override Account Account => Account.NonRoot("hello", uid: 10001);
                    public override Entrypoint Entrypoint => new("/app/hello");
                }
                """);
            fixture.BuildOk($"-p:KilnCacheDirectory={ShopSample.CacheDirectory(package)}");
            return Builds[package] = fixture;
        }
    }

    /// <summary>
    /// A copy of the arm64 build's layout (and Kiln manifest) where hello-arm64:1.0.0 names an index of a busybox
    /// linux/amd64 image and the built linux/arm64 image, amd64 first, as a two-platform build tags it.
    /// </summary>
    private static string IndexOfBoth(FixtureProject build, string busybox)
    {
        var output = Path.Combine(Directory.CreateTempSubdirectory("kiln-run-multi-").FullName, "kiln");
        foreach (var file in Directory.EnumerateFiles(build.OutputDirectory, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(output, Path.GetRelativePath(build.OutputDirectory, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        var layoutDirectory = Path.Combine(output, "oci");
        var layout = OciLayout.Open(layoutDirectory);
        var arm64 = layout.FindManifest(Arm64Reference)! with { Annotations = null, Platform = new Platform("arm64", "linux") };
        var (_, amd64) = MultiPlatformImage.Write(layoutDirectory, "amd64-only:1.0.0", new MultiPlatformImage.PlatformImage(
            new Platform("amd64", "linux"),
            [
                LayerEntry.Directory("/bin"),
                new LayerEntry("/bin/busybox", EntryKind.File) { Mode = 0x1ED, SourcePath = busybox },
                LayerEntry.Symlink("/bin/sh", "busybox"),
                LayerEntry.Directory("/app"),
                new LayerEntry("/app/hello", EntryKind.File) { Mode = 0x1ED, Content = "#!/bin/sh\necho hello from X64\nexec /bin/busybox sleep 1000\n"u8.ToArray() },
            ],
            new ContainerConfig { Entrypoint = ["/app/hello"], Env = ["PATH=/bin"] }));
        var index = layout.WriteBlob(new ImageIndex { Manifests = [amd64[0], arm64] }.ToJson(), MediaTypes.ImageIndex);
        layout.Tag(Arm64Reference, index);
        return layoutDirectory;
    }

    /// <summary>Runs <c>kiln run hello-arm64:1.0.0</c> until <paramref name="line"/> appears, stops it with SIGINT, and returns everything it printed.</summary>
    private string RunUntil(string layoutDirectory, string line, params string[] extra)
    {
        var id = "kiln-multi-" + Guid.NewGuid().ToString("N")[..10];
        var engine = Directory.EnumerateFiles(Path.Combine(package.Packages, "kiln.build"), "kiln.dll", SearchOption.AllDirectories)
            .First(f => f.Replace('\\', '/').Contains("/tools/engine/", StringComparison.Ordinal));
        using var kiln = ProcessRunner.Start("dotnet", ["exec", engine, "run", Arm64Reference, "--layout", layoutDirectory, "--name", id, "--stop-timeout", "5", .. extra], Path.GetDirectoryName(layoutDirectory), null, out var output);
        try
        {
            Assert.True(WaitFor(output, line, kiln), $"kiln run {string.Join(' ', extra)} never printed '{line}':\n{Text(output)}");
            Assert.Equal(0, ProcessRunner.Run("kill", ["-INT", kiln.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]).ExitCode);
            Assert.True(kiln.WaitForExit(TimeSpan.FromMinutes(1)), "kiln run did not stop after SIGINT:\n" + Text(output));
            kiln.WaitForExit();
            Assert.True(kiln.ExitCode == 0, Text(output));
            return Text(output);
        }
        finally
        {
            if (!kiln.HasExited)
            {
                kiln.Kill(entireProcessTree: true);
            }

            ProcessRunner.Run("runc", ["delete", "--force", id]);
        }
    }

    private CliResult Kiln(params string[] arguments)
    {
        EnsureEngine();
        var result = KilnCli.RunSeparated(package, Path.GetTempPath(), null, arguments);
        Assert.True(result.ExitCode == 0 && !result.StandardError.Contains("error KILN", StringComparison.Ordinal), $"kiln {string.Join(' ', arguments)}\n{result}");
        return result;
    }

    /// <summary>Puts the packed engine (kiln.dll) in the test's package cache, once, as a restore of any fixture does.</summary>
    private void EnsureEngine()
    {
        lock (BuildLock)
        {
            if (!Directory.Exists(Path.Combine(package.Packages, "kiln.build")))
            {
                Assert.Equal(0, new FixtureProject(package).Build("-t:Restore").ExitCode);
            }
        }
    }

    private static JsonDocument Json(CliResult result) => JsonDocument.Parse(result.StandardOutput);

    private static bool WaitFor(StringBuilder output, string text, Process process)
    {
        // A generous limit for a slow, shared machine (an emulated .NET start is slow); never an assertion on duration.
        for (var i = 0; i < 1500 && !process.HasExited; i++)
        {
            if (Text(output).Contains(text, StringComparison.Ordinal))
            {
                return true;
            }

            Thread.Sleep(200);
        }

        return Text(output).Contains(text, StringComparison.Ordinal);
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }
}
