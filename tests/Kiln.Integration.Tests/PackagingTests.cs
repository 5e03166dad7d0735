using System.IO.Compression;
using System.Reflection.PortableExecutable;
using System.Text.Json;
using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// What a .NET team outside this repository does: the README's "Use Kiln in your own repository", from an empty
/// directory, with the packed Kiln.Build, kiln tool and Kiln.Templates as the only Kiln source. The Kiln packages come
/// from the collection's feed and land in its own NUGET_PACKAGES folder (KilnPackage), so a stale Kiln of the same
/// version in the user's global packages folder can never be the one tested; that folder then needs only Kiln's
/// packages, since the spec project references nothing else. Templates go to a hive of their own
/// (--debug:custom-hive), never into the user's.
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class PackagingTests(KilnPackage package)
{
    [SkippableFact]
    public void OwnRepository_TemplateToolAndPackage_BuildAnImageThatUmociAndSkopeoAccept()
    {
        Tools.Require("umoci", "umoci");
        var skopeo = Tools.Require("skopeo", "skopeo");
        PackToolAndTemplate();
        var repository = Directory.CreateDirectory(Path.Combine(package.Root, "own-repository-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        var hive = Path.Combine(repository, ".template-hive");

        // The README's commands, in order (the template hive aside).
        Run(repository, "dotnet", "new", "nugetconfig");
        Run(repository, "dotnet", "nuget", "add", "source", package.Feed, "--name", "kiln", "--configfile", "nuget.config");
        Run(repository, "dotnet", "new", "install", TemplatePackage(), "--debug:custom-hive", hive);
        Run(repository, "dotnet", "new", "kiln", "-n", "Servers", "--debug:custom-hive", hive);
        var build = Run(repository, "dotnet", "build", "Servers", "-nodeReuse:false");
        Run(repository, "dotnet", "new", "tool-manifest");
        Run(repository, "dotnet", "tool", "install", "kiln");
        var inspect = Run(repository, "dotnet", "kiln", "inspect", Path.Combine("Servers", "bin", "Debug", "kiln", "oci"), "web:1.0.0");

        // Analyzer-clean: the template's spec compiles without a single Kiln warning.
        Assert.DoesNotContain("warning KILN", build.Output, StringComparison.Ordinal);
        var output = Path.Combine(repository, "Servers", "bin", "Debug", "kiln");
        var layout = Path.Combine(output, "oci");
        Assert.Contains("web:1.0.0", ReleasedImages(output));
        Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(output, "deploy", "app")));
        Assert.Contains("/bin/busybox", inspect.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(repository, "Servers", "kiln.lock.json")), "the Debian base's packages were not locked");

        // Independent judges: skopeo reads the image, umoci unpacks it into exactly what the inventory says.
        var skopeoInspect = Run(repository, skopeo, "inspect", $"oci:{layout}:web:1.0.0");
        Assert.Contains("\"Digest\": \"sha256:", skopeoInspect.Output, StringComparison.Ordinal);
        UnpackedInventory.AssertMatchesUmoci(layout, "web:1.0.0", Path.Combine(output, "inventory", "web-1.0.0.txt"));

        // The other way to get the tool: a tool path, straight from the folder of packages.
        var toolPath = Path.Combine(repository, ".tools");
        Run(repository, "dotnet", "tool", "install", "--tool-path", toolPath, "kiln", "--add-source", package.Feed);
        var kiln = Path.Combine(toolPath, OperatingSystem.IsWindows() ? "kiln.exe" : "kiln");
        Assert.Contains(KilnPackage.Version, Run(repository, kiln, "--version").Output, StringComparison.Ordinal);
        Assert.Contains("web:1.0.0", Run(repository, kiln, "inspect", layout).Output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Template_ScratchBase_CompilesAnalyzerCleanAndBuildsAnImageWithoutNetwork()
    {
        Tools.Require("umoci", "umoci");
        PackToolAndTemplate();
        var repository = Directory.CreateDirectory(Path.Combine(package.Root, "scratch-repository-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        var hive = Path.Combine(repository, ".template-hive");
        WriteFeedOnlyNuGetConfig(repository);

        Run(repository, "dotnet", "new", "install", TemplatePackage(), "--debug:custom-hive", hive);
        Run(repository, "dotnet", "new", "kiln", "-n", "Bare", "--base", "scratch", "--debug:custom-hive", hive);
        var build = Run(repository, "dotnet", "build", "Bare", "-nodeReuse:false");

        Assert.DoesNotContain("warning KILN", build.Output, StringComparison.Ordinal);
        Assert.Contains("BaseImage.Scratch", File.ReadAllText(Path.Combine(repository, "Bare", "Specs", "WebServer.cs")), StringComparison.Ordinal);
        var output = Path.Combine(repository, "Bare", "bin", "Debug", "kiln");
        Assert.Contains("web:1.0.0", ReleasedImages(output));
        UnpackedInventory.AssertMatchesUmoci(Path.Combine(output, "oci"), "web:1.0.0", Path.Combine(output, "inventory", "web-1.0.0.txt"));
    }

    [Fact]
    public void Packages_OneVersion_ToolTemplateAndRecipeAreWhereUsersLook()
    {
        PackToolAndTemplate();

        using (var tool = ZipFile.OpenRead(Path.Combine(package.Feed, $"kiln.{KilnPackage.Version}.nupkg")))
        {
            Assert.Contains(tool.Entries, e => e.FullName == "tools/net10.0/any/DotnetToolSettings.xml");
        }

        using (var build = ZipFile.OpenRead(Path.Combine(package.Feed, $"Kiln.Build.{KilnPackage.Version}.nupkg")))
        {
            Assert.Contains(build.Entries, e => e.FullName == "tools/kiln.cake");
            var version = build.GetEntry("build/Kiln.Build.Version.props");
            Assert.NotNull(version);
            using var reader = new StreamReader(version.Open());
            Assert.Contains($">{KilnPackage.Version}</KilnVersion>", reader.ReadToEnd(), StringComparison.Ordinal);
        }

        using var template = ZipFile.OpenRead(TemplatePackage());
        var project = template.GetEntry("content/kiln/KilnServers.csproj");
        Assert.NotNull(project);
        using var projectReader = new StreamReader(project.Open());
        Assert.Contains($"<PackageReference Include=\"Kiln.Build\" Version=\"{KilnPackage.Version}\" />", projectReader.ReadToEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public void Engine_Packed_BuildPathReadyToRunForLinuxX64BesidePortableIl()
    {
        string[] readyToRun = ["Kiln.Engine.dll", "Kiln.Oci.dll", "Kiln.Spec.dll", "System.CommandLine.dll"];
        string[] ilOnly = ["kiln.dll", "Microsoft.CodeAnalysis.dll", "Microsoft.CodeAnalysis.CSharp.dll", "BouncyCastle.Cryptography.dll", "SharpCompress.dll", "Spectre.Console.dll", "ZstdSharp.dll"];
        var engine = ExtractEngine();
        var twins = Path.Combine(engine, "runtimes", "linux-x64", "lib", "net10.0");

        // The root holds the portable IL every platform runs; the linux-x64 twins are compiled (machine AMD64 xor the
        // Linux marker crossgen writes) and listed as that RID's runtimeTargets.
        using var deps = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(engine, "kiln.deps.json")));
        var target = deps.RootElement.GetProperty("targets").GetProperty(deps.RootElement.GetProperty("runtimeTarget").GetProperty("name").GetString()!);
        foreach (var name in readyToRun)
        {
            Assert.Equal((Machine.I386, false), Image(Path.Combine(engine, name)));
            Assert.Equal(((Machine)(0x8664 ^ 0x7B79), true), Image(Path.Combine(twins, name)));
            var library = target.EnumerateObject().Single(l => l.Value.TryGetProperty("runtime", out var runtime) && runtime.EnumerateObject().Any(a => Path.GetFileName(a.Name) == name));
            var asset = library.Value.GetProperty("runtimeTargets").GetProperty($"runtimes/linux-x64/lib/net10.0/{name}");
            Assert.Equal("linux-x64", asset.GetProperty("rid").GetString());
            Assert.Equal("runtime", asset.GetProperty("assetType").GetString());
        }

        foreach (var name in ilOnly)
        {
            Assert.Equal((Machine.I386, false), Image(Path.Combine(engine, name)));
            Assert.False(File.Exists(Path.Combine(twins, name)), $"{name} was packed ReadyToRun");
        }

        using var runtimeConfig = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(engine, "kiln.runtimeconfig.json")));
        var settings = runtimeConfig.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.True(settings.GetProperty("System.Globalization.Invariant").GetBoolean());
        Assert.False(settings.GetProperty("System.Runtime.TieredPGO").GetBoolean());

        // Portable: the same engine with its twins labelled for another platform (as on an arm64 or Windows host, whose
        // host never picks linux-x64 assets) runs on the IL alone and answers exactly as the compiled one.
        var foreign = Path.Combine(package.Root, "engine-foreign-" + Guid.NewGuid().ToString("N")[..8]);
        CopyDirectory(engine, foreign);
        Directory.Move(Path.Combine(foreign, "runtimes", "linux-x64"), Path.Combine(foreign, "runtimes", "linux-arm64"));
        File.WriteAllText(Path.Combine(foreign, "kiln.deps.json"), File.ReadAllText(Path.Combine(engine, "kiln.deps.json")).Replace("linux-x64", "linux-arm64", StringComparison.Ordinal));
        foreach (var arguments in new[] { new[] { "--version" }, ["engine", "build", "--help"], ["engine", "build", "--assembly"] })
        {
            var compiled = ProcessRunner.Run("dotnet", ["exec", Path.Combine(engine, "kiln.dll"), .. arguments], engine, Environment());
            var portable = ProcessRunner.Run("dotnet", ["exec", Path.Combine(foreign, "kiln.dll"), .. arguments], foreign, Environment());

            Assert.Equal(compiled, portable);
        }

        Assert.Contains(KilnPackage.Version, ProcessRunner.Run("dotnet", ["exec", Path.Combine(engine, "kiln.dll"), "--version"], engine, Environment()).Output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void CakeRecipe_LoadedFromThePackage_BuildsAndChecksTheImages()
    {
        Tools.Require("umoci", "umoci");
        PackToolAndTemplate();
        var fixture = new FixtureProject(package, "Recipe").Specs("""
            public sealed class Web : ServerSpec
            {
                public override string Name => "web";
                public override string Version => "1.0.0";
                public override Account Account => Account.NonRoot("web", uid: 10001);
                public override Entrypoint Entrypoint => new("/server");
            }
            """);
        var script = Path.Combine(fixture.Directory, "build.cake");
        var kiln = Path.Combine(fixture.Directory, ".tools", "kiln");
        File.WriteAllText(script, $$"""
            #load "nuget:{{new Uri(package.Feed).AbsoluteUri}}?package=Kiln.Build&version={{KilnPackage.Version}}"
            var kiln = KilnRecipe(new KilnSettings { Project = "{{fixture.Directory}}", Configuration = "Debug", KilnPath = "{{kiln}}" });
            Task("Check").IsDependentOn(kiln.Images).IsDependentOn(kiln.Verify);
            RunTarget("Check");
            """);
        Run(fixture.Directory, "dotnet", "tool", "install", "--tool-path", Path.GetDirectoryName(kiln)!, "kiln", "--add-source", package.Feed);
        Run(Repo.Root, "dotnet", "tool", "restore");

        var cake = Run(Repo.Root, "dotnet", "cake", script);

        Assert.Contains("Kiln-Images", cake.Output, StringComparison.Ordinal);
        Assert.Contains("Kiln-Verify", cake.Output, StringComparison.Ordinal);
        Assert.Contains("web:1.0.0", fixture.ReadRelease().Digests.Keys);
    }

    private static readonly Lock PackGate = new();

    /// <summary>Packs the kiln tool and Kiln.Templates beside the collection's Kiln.Build, at its version, once.</summary>
    private void PackToolAndTemplate()
    {
        lock (PackGate)
        {
            foreach (var (project, id) in new[] { ("src/Kiln.Cli/Kiln.Cli.csproj", "kiln"), ("templates/Kiln.Templates/Kiln.Templates.csproj", "Kiln.Templates") })
            {
                if (File.Exists(Path.Combine(package.Feed, $"{id}.{KilnPackage.Version}.nupkg")))
                {
                    continue;
                }

                var pack = ProcessRunner.Run("dotnet", ["pack", Path.Combine(Repo.Root, project), "-c", "Release", "-o", package.Feed, "-nologo", "-nodeReuse:false", $"-p:Version={KilnPackage.Version}"], Repo.Root, Environment(), TimeSpan.FromMinutes(8));
                Assert.True(pack.ExitCode == 0, $"packing {project} failed:\n{pack}");
            }
        }
    }

    private string ExtractEngine()
    {
        var directory = Path.Combine(package.Root, "engine-" + Guid.NewGuid().ToString("N")[..8]);
        using var build = ZipFile.OpenRead(Path.Combine(package.Feed, $"Kiln.Build.{KilnPackage.Version}.nupkg"));
        foreach (var entry in build.Entries.Where(e => e.FullName.StartsWith("tools/engine/", StringComparison.Ordinal) && e.Name.Length > 0))
        {
            var path = Path.Combine(directory, entry.FullName["tools/engine/".Length..]);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            entry.ExtractToFile(path);
        }

        return directory;
    }

    private static (Machine Machine, bool ReadyToRun) Image(string path)
    {
        using var reader = new PEReader(File.OpenRead(path));
        return (reader.PEHeaders.CoffHeader.Machine, reader.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size > 0);
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private string TemplatePackage() => Path.Combine(package.Feed, $"Kiln.Templates.{KilnPackage.Version}.nupkg");

    private void WriteFeedOnlyNuGetConfig(string directory) =>
        File.WriteAllText(Path.Combine(directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="kiln" value="{package.Feed}" />
              </packageSources>
            </configuration>
            """);

    private static List<string> ReleasedImages(string output)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "release.json")));
        return [.. document.RootElement.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("reference").GetString()!)];
    }

    private Dictionary<string, string?> Environment() => new()
    {
        ["NUGET_PACKAGES"] = package.Packages,
        // The SDK caches where a local tool's command lies under DOTNET_CLI_HOME (.dotnet/toolResolverCache), keyed by
        // id and version only: a user's earlier kiln 0.1.0 from another packages folder would be found instead.
        ["DOTNET_CLI_HOME"] = Path.Combine(package.Root, "dotnet-cli-home"),
        ["MSBUILDDISABLENODEREUSE"] = "1",
        ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0",
        ["SOURCE_DATE_EPOCH"] = null,
        ["DOTNET_NOLOGO"] = "1",
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
    };

    private ProcessResult Run(string directory, string program, params string[] arguments)
    {
        var result = ProcessRunner.Run(program, arguments, directory, Environment(), TimeSpan.FromMinutes(8));
        Assert.True(result.ExitCode == 0, $"{program} {string.Join(' ', arguments)} failed in {directory}:\n{result}");
        return result;
    }
}
