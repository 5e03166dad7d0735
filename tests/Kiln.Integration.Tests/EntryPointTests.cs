using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Kiln.Integration.Tests.Infrastructure;
using Kiln.Oci;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// The documented entry point (<c>dotnet msbuild -t:KilnBuildImages</c>), concurrent builds of one output directory, and
/// images that do not change with the commit or the checkout directory.
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class EntryPointTests(KilnPackage package)
{
    [Fact]
    public void KilnBuildImages_CalledDirectlyAfterInputChange_BuildsTheNewImage()
    {
        var fixture = BuildTests.TwoServerFixture(package);
        fixture.BuildOk();
        var before = fixture.ReadRelease().Digests["fixture-api:1.2.3"];

        fixture.Write("files/settings.json", "{ \"mode\": \"direct\" }\n");
        var direct = fixture.MSBuild("-t:KilnBuildImages");

        Assert.True(direct.ExitCode == 0, direct.Output);
        var after = fixture.ReadRelease().Digests["fixture-api:1.2.3"];
        Assert.NotEqual(before, after);
        Assert.Equal("{ \"mode\": \"direct\" }\n", ReadFileFromImage(fixture.LayoutDirectory, after, "app/settings.json"));

        // Nothing changed since: the direct call is the same no-op as a second build, without starting the engine.
        var again = fixture.MSBuild("-t:KilnBuildImages");
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Contains("Skipping target \"_KilnPrepareImageBuild\" because all output files are up-to-date", again.Output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void KilnBuildImages_FourConcurrentRunsOnOneOutputDirectory_AllSucceedWithOneValidLayout()
    {
        var validator = Tools.Require("oci-image-tool", "oci-image-tool");
        var fixture = BuildTests.TwoServerFixture(package);
        fixture.BuildOk();
        fixture.Write("files/settings.json", "{ \"mode\": \"concurrent\" }\n");
        fixture.Write("www/extra.html", "<p>four at once</p>\n");

        var runs = Enumerable.Range(0, 4).Select(_ => (Process: fixture.StartMSBuild(out var output, "-t:KilnBuildImages"), Output: output)).ToList();
        foreach (var (process, _) in runs)
        {
            Assert.True(process.WaitForExit(TimeSpan.FromMinutes(6)), "a concurrent build did not finish");
            process.WaitForExit();
        }

        var outputs = runs.Select(r => { lock (r.Output) { return r.Output.ToString(); } }).ToList();
        foreach (var (run, output) in runs.Zip(outputs))
        {
            Assert.True(run.Process.ExitCode == 0, "a concurrent build failed:\n" + output);
            Assert.DoesNotContain(": error", output, StringComparison.Ordinal);
            run.Process.Dispose();
        }

        // One consistent result: every run that built reported the same digest, and the artifacts agree with it.
        var release = fixture.ReadRelease().Digests["fixture-api:1.2.3"];
        var reported = outputs.SelectMany(o => o.Split('\n'))
            .Where(l => l.Contains("kiln: fixture-api:1.2.3 -> ", StringComparison.Ordinal))
            .Select(l => l[(l.IndexOf("-> ", StringComparison.Ordinal) + 3)..].Split(' ')[0])
            .Distinct()
            .ToList();
        Assert.Equal([release], reported);
        Assert.Equal("{ \"mode\": \"concurrent\" }\n", ReadFileFromImage(fixture.LayoutDirectory, release, "app/settings.json"));
        var validate = ProcessRunner.Run(validator, ["validate", "--type", "image", fixture.LayoutDirectory]);
        Assert.True(validate.ExitCode == 0, validate.Output);
        var index = OciLayout.Open(fixture.LayoutDirectory).ReadIndex();
        Assert.Equal(fixture.ReadRelease().Digests.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value), index.Manifests.Select(m => m.Digest.ToString()));
        Assert.Equal(release, JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture.OutputDirectory, "manifests", "fixture-api-1.2.3.json"))).RootElement.GetProperty("content").GetProperty("image").GetProperty("digest").GetString());
    }

    [Fact]
    public void KilnBuildImages_OutputDirectoryLockedByAnotherProcess_WaitsSaysForWhomThenBuilds()
    {
        var fixture = BuildTests.TwoServerFixture(package);
        fixture.BuildOk();
        fixture.Write("files/settings.json", "{ \"mode\": \"waited\" }\n");

        Process build;
        StringBuilder output;
        // The same OS lock a running engine holds; this test process plays the other build.
        using (var held = new FileStream(Path.Combine(fixture.OutputDirectory, ".kiln-build.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            File.WriteAllText(Path.Combine(fixture.OutputDirectory, ".kiln-build.owner"), $"{Environment.ProcessId}\n");
            build = fixture.StartMSBuild(out output, "-t:KilnBuildImages", "-v:m");
            var watch = Stopwatch.StartNew();
            while (!build.HasExited && !Text(output).Contains("waiting for another Kiln build", StringComparison.Ordinal) && watch.Elapsed < TimeSpan.FromMinutes(4))
            {
                Thread.Sleep(50);
            }

            Assert.False(build.HasExited, "the build did not wait for the lock:\n" + Text(output));
        }

        Assert.True(build.WaitForExit(TimeSpan.FromMinutes(4)), "the build did not finish after the lock was released");
        build.WaitForExit();
        var text = Text(output);
        Assert.True(build.ExitCode == 0, text);
        // Shown at minimal verbosity, naming the directory and the holder.
        Assert.Contains($"waiting for another Kiln build of {fixture.OutputDirectory} (pid {Environment.ProcessId})", text, StringComparison.Ordinal);
        Assert.Equal("{ \"mode\": \"waited\" }\n", ReadFileFromImage(fixture.LayoutDirectory, fixture.ReadRelease().Digests["fixture-api:1.2.3"], "app/settings.json"));
        build.Dispose();
    }

    [Fact]
    public void KilnBuildImages_LockHeldLongerThanTimeout_FailsWithKiln3060AndKeepsArtifacts()
    {
        var fixture = BuildTests.TwoServerFixture(package);
        fixture.BuildOk();
        var release = File.ReadAllText(fixture.ReleasePath);
        fixture.Write("files/settings.json", "{ \"mode\": \"never\" }\n");

        ProcessResult result;
        using (new FileStream(Path.Combine(fixture.OutputDirectory, ".kiln-build.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            result = fixture.MSBuild("-t:KilnBuildImages", "-p:KilnBuildLockTimeout=1");
        }

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("error KILN3060", result.Output, StringComparison.Ordinal);
        Assert.Contains("KilnBuildLockTimeout", result.Output, StringComparison.Ordinal);
        Assert.Equal(release, File.ReadAllText(fixture.ReleasePath));

        var invalid = fixture.MSBuild("-t:KilnBuildImages", "-p:KilnBuildLockTimeout=soon");
        Assert.NotEqual(0, invalid.ExitCode);
        Assert.Contains("error KILN4020", invalid.Output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Build_PublishedAppInGitRepository_ImageCarriesNoCommitAndTwoCommitsInTwoClonesGiveOneDigest()
    {
        var git = Tools.Require("git", "git");
        var root = Path.Combine(package.Root, "projects", "git-" + Guid.NewGuid().ToString("N")[..8]);
        var fixture = new FixtureProject(package, directory: Path.Combine(root, "specs"));
        Directory.CreateDirectory(Path.Combine(root, "app"));
        File.WriteAllText(Path.Combine(root, "app", "App.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Version>3.1.4</Version>
              </PropertyGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(root, "app", "Program.cs"), "System.Console.WriteLine(\"app\");\n");
        File.WriteAllText(Path.Combine(root, "app", "nuget.config"), File.ReadAllText(Path.Combine(fixture.Directory, "nuget.config")));
        File.WriteAllText(Path.Combine(root, ".gitignore"), "bin/\nobj/\n");
        fixture.Specs("""
            public sealed class App : ServerSpec
            {
                public override string Name => "git-app";
                public override string Version => "1.0.0";
                public override ImmutableArray<Layer> Layers => [Layer.PublishOutput("../app/App.csproj", to: "/app")];
                public override Entrypoint Entrypoint => new("/usr/bin/dotnet", "/app/App.dll");
            }
            """);
        Git(git, root, "init", "-q", "-b", "main");
        // A remote on a host Source Link knows: without Kiln's publish settings, the PDB would map sources to this commit.
        Git(git, root, "remote", "add", "origin", "https://github.com/kiln-fixture/app.git");
        Git(git, root, "add", "-A");
        Git(git, root, "commit", "-q", "-m", "first");
        var firstCommit = Git(git, root, "rev-parse", "HEAD").Trim();

        fixture.BuildOk();

        var digest = fixture.ReadRelease().Digests["git-app:1.0.0"];
        var layerText = ImageText(fixture.LayoutDirectory, digest);
        Assert.Contains("app/App.dll", layerText, StringComparison.Ordinal);
        Assert.DoesNotContain(firstCommit, layerText, StringComparison.Ordinal);
        Assert.DoesNotContain(firstCommit[..9], layerText, StringComparison.Ordinal);
        Assert.DoesNotContain(root, layerText, StringComparison.Ordinal);
        Assert.Contains("3.1.4", layerText, StringComparison.Ordinal); // the informational version is read where the commit would be
        Assert.Equal(firstCommit, SourceRevision(fixture));

        // Another clone, in another directory, one commit later (a README edit): the same image, a different build section.
        var clone = Path.Combine(package.Root, "projects", "clone-" + Guid.NewGuid().ToString("N")[..8]);
        Git(git, package.Root, "clone", "-q", root, clone);
        Git(git, clone, "remote", "set-url", "origin", "https://github.com/kiln-fixture/app.git");
        File.WriteAllText(Path.Combine(clone, "README.md"), "# app\n");
        Git(git, clone, "add", "README.md");
        Git(git, clone, "commit", "-q", "-m", "readme");
        var secondCommit = Git(git, clone, "rev-parse", "HEAD").Trim();
        var cloned = new FixtureProject(package, directory: Path.Combine(clone, "specs"));

        cloned.BuildOk();

        Assert.NotEqual(firstCommit, secondCommit);
        Assert.Equal(digest, cloned.ReadRelease().Digests["git-app:1.0.0"]);
        Assert.Equal(secondCommit, SourceRevision(cloned));
    }

    private static string Git(string git, string directory, params string[] arguments)
    {
        var result = ProcessRunner.Run(git, ["-c", "user.name=Kiln Tests", "-c", "user.email=tests@kiln.invalid", "-c", "commit.gpgsign=false", .. arguments], directory);
        Assert.True(result.ExitCode == 0, $"git {string.Join(' ', arguments)}:\n{result.Output}");
        return result.Output;
    }

    private static string? SourceRevision(FixtureProject fixture) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture.OutputDirectory, "manifests", "git-app-1.0.0.json"))).RootElement
            .GetProperty("build").GetProperty("sourceRevision").GetString();

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    /// <summary>Every layer of the image, decompressed, as Latin-1 text: the tar headers and every file's bytes.</summary>
    private static string ImageText(string layoutDirectory, string digest)
    {
        var layout = OciLayout.Open(layoutDirectory);
        var text = new StringBuilder();
        foreach (var layer in layout.ReadManifest(Digest.Parse(digest)).Layers)
        {
            using var gzip = new GZipStream(layout.OpenBlob(layer.Digest), CompressionMode.Decompress);
            using var buffer = new MemoryStream();
            gzip.CopyTo(buffer);
            text.Append(Encoding.Latin1.GetString(buffer.ToArray()));
        }

        return text.ToString();
    }

    internal static string ReadFileFromImage(string layoutDirectory, string digest, string path)
    {
        var layout = OciLayout.Open(layoutDirectory);
        foreach (var layer in layout.ReadManifest(Digest.Parse(digest)).Layers.Reverse())
        {
            using var gzip = new GZipStream(layout.OpenBlob(layer.Digest), CompressionMode.Decompress);
            using var tar = new System.Formats.Tar.TarReader(gzip);
            while (tar.GetNextEntry() is { } entry)
            {
                if (entry.Name.TrimStart('.', '/') == path && entry.DataStream is { } data)
                {
                    using var reader = new StreamReader(data);
                    return reader.ReadToEnd();
                }
            }
        }

        throw new Xunit.Sdk.XunitException($"{path} is not in image {digest}");
    }
}
