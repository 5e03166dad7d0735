using System.Text.Json;
using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// The dev loop of a spec that publishes an app with a project reference: a build with nothing changed runs no
/// Publish target; a change in the app or in the library it references publishes again and moves only the layers
/// that hold what changed.
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class PublishDevLoopTests(KilnPackage package)
{
    private const string Skipped = "is up to date (nothing it depends on changed); not running its Publish target";

    /// <summary>specs/ (the fixture), app/App.csproj (an Exe) referencing lib/Lib.csproj, published to /app.</summary>
    private FixtureProject AppWithLibrary(out string root, string moreSpecs = "")
    {
        root = Path.Combine(package.Root, "projects", "devloop-" + Guid.NewGuid().ToString("N")[..8]);
        // The tests look at the engine process started before the publish: in a process of its own, not the server.
        var fixture = new FixtureProject(package, directory: Path.Combine(root, "specs")).WithoutEngineServer();
        Write(root, "lib/Lib.csproj", """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
              </PropertyGroup>
            </Project>
            """);
        Write(root, "lib/Greeting.cs", "namespace Lib; public static class Greeting { public const string Text = \"hello\"; }\n");
        Write(root, "app/App.csproj", """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="../lib/Lib.csproj" />
              </ItemGroup>
            </Project>
            """);
        Write(root, "app/Program.cs", "System.Console.WriteLine(Lib.Greeting.Text + \" v1\");\n");
        Write(root, "nuget.config", File.ReadAllText(Path.Combine(fixture.Directory, "nuget.config")));
        fixture.Specs("""
            public sealed class App : ServerSpec
            {
                public override string Name => "devloop";
                public override string Version => "1.0.0";
                public override ImmutableArray<Layer> Layers => [Layer.PublishOutput("../app/App.csproj", to: "/app")];
                public override Entrypoint Entrypoint => new("/usr/bin/dotnet", "/app/App.dll");
            }
            """ + moreSpecs);
        return fixture;
    }

    private static void Write(string root, string relative, string content)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content.ReplaceLineEndings("\n"));
    }

    private static (string Source, string Digest)[] Layers(FixtureProject fixture) =>
        [.. JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture.OutputDirectory, "manifests", "devloop-1.0.0.json"))).RootElement
            .GetProperty("content").GetProperty("layers").EnumerateArray()
            .Select(l => (l.GetProperty("source").GetString()!, l.GetProperty("digest").GetString()!))];

    /// <summary>What MSBuild logs (-v:n) when it runs a project's Publish target.</summary>
    private const string PublishRan = "(Publish target(s))";

    [Fact]
    public void Build_NothingChanged_RunsNoPublishTarget()
    {
        var fixture = AppWithLibrary(out _);
        var first = fixture.BuildOk();
        Assert.DoesNotContain(Skipped, first.Output, StringComparison.Ordinal);

        var second = fixture.BuildOk();

        Assert.Contains(PublishRan, first.Output, StringComparison.Ordinal);
        Assert.Contains(Skipped, second.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(PublishRan, second.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_AppSourceChanged_PublishesAgainAndMovesOnlyTheAppLayer()
    {
        var fixture = AppWithLibrary(out var root);
        fixture.BuildOk();
        var before = Layers(fixture);

        Write(root, "app/Program.cs", "System.Console.WriteLine(Lib.Greeting.Text + \" v2\");\n");
        var rebuild = fixture.BuildOk();

        Assert.Contains(PublishRan, rebuild.Output, StringComparison.Ordinal);
        var after = Layers(fixture);
        Assert.Equal(before.Select(l => l.Source), after.Select(l => l.Source));
        Assert.Equal(["publish:../app/App.csproj#projects", "publish:../app/App.csproj"], after.Select(l => l.Source));
        Assert.Equal(before[0].Digest, after[0].Digest);
        Assert.NotEqual(before[1].Digest, after[1].Digest);
    }

    [Fact]
    public void Build_ReferencedLibrarySourceChanged_PublishesAgainAndMovesTheProjectLayer()
    {
        var fixture = AppWithLibrary(out var root);
        fixture.BuildOk();
        var before = Layers(fixture);

        Write(root, "lib/Greeting.cs", "namespace Lib; public static class Greeting { public const string Text = \"hello, changed\"; }\n");
        var rebuild = fixture.BuildOk();

        Assert.Contains(PublishRan, rebuild.Output, StringComparison.Ordinal);
        var after = Layers(fixture);
        Assert.NotEqual(before[0].Digest, after[0].Digest);
    }

    [Fact]
    public void Build_SourceFileAddedToReferencedLibrary_PublishesAgain()
    {
        var fixture = AppWithLibrary(out var root);
        fixture.BuildOk();
        var before = Layers(fixture);

        // An added file changes no existing file's time stamp: only the recorded tree, expanded again, can tell.
        Write(root, "lib/Extra.cs", "namespace Lib; public static class Extra { public static int Answer() => 42; }\n");
        var rebuild = fixture.BuildOk();

        Assert.Contains(PublishRan, rebuild.Output, StringComparison.Ordinal);
        Assert.NotEqual(before[0].Digest, Layers(fixture)[0].Digest);
    }

    [Fact]
    public void Build_PublishOutputDeleted_PublishesAgain()
    {
        var fixture = AppWithLibrary(out _);
        fixture.BuildOk();
        var digest = fixture.ReadRelease().Digests["devloop:1.0.0"];

        Directory.Delete(Path.Combine(fixture.Directory, "obj", "Debug", "kiln", "publish"), recursive: true);
        var rebuild = fixture.BuildOk();

        Assert.Contains(PublishRan, rebuild.Output, StringComparison.Ordinal);
        Assert.Equal(digest, fixture.ReadRelease().Digests["devloop:1.0.0"]);
    }

    [Fact]
    public void Build_KilnPublishAlways_RunsPublishEveryTime()
    {
        var fixture = AppWithLibrary(out _);
        fixture.BuildOk();

        var second = fixture.BuildOk("-p:KilnPublishAlways=true");

        Assert.Contains(PublishRan, second.Output, StringComparison.Ordinal);
    }

    private const string StartedEarly = "Kiln: starting the image build, to prepare while the publish runs.";
    private const string TakenOver = "Kiln: continuing the image build started during the publish";
    private const string CalledOff = "Kiln: the images are up to date; stopping the image build started early";

    /// <summary>The engine process a build started before its publish, from the build's log (the line that took it over or called it off).</summary>
    private static int EarlyEngineProcess(ProcessResult build)
    {
        var line = build.Output.Split('\n').Single(l => l.Contains(TakenOver, StringComparison.Ordinal) || l.Contains(CalledOff, StringComparison.Ordinal));
        var start = line.IndexOf("(process ", StringComparison.Ordinal) + "(process ".Length;
        return int.Parse(line[start..line.IndexOf(')', start)], System.Globalization.CultureInfo.InvariantCulture);
    }

    private const string PrestartedEngineSwitch = "--wait-for-publish";

    /// <summary>The engine processes still waiting for a publish of the fixture (Linux: their /proc command lines).</summary>
    private static List<int> EnginesWaitingFor(FixtureProject fixture) =>
        [.. Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && ReadCommandLine(pid) is { } command && command.Contains(PrestartedEngineSwitch, StringComparison.Ordinal) && command.Contains(fixture.Directory, StringComparison.Ordinal))];

    private static string? ReadCommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return null; // gone meanwhile
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// The positive control of <see cref="EnginesWaitingFor"/>: a process whose command line looks like the fixture's
    /// waiting engine is found. A loop, so that bash cannot replace itself with the command it runs (and its command
    /// line with that one's); searched until it shows up, since a process's command line appears after it starts.
    /// </summary>
    private static void AssertTheSearchFindsALookalike(FixtureProject fixture)
    {
        using var lookalike = System.Diagnostics.Process.Start("bash", ["-c", "while true; do sleep 1; done", "engine", PrestartedEngineSwitch, fixture.Directory]);
        try
        {
            var found = false;
            for (var waited = 0; waited < 100 && !found; waited++)
            {
                found = EnginesWaitingFor(fixture).Contains(lookalike.Id);
                if (!found)
                {
                    Thread.Sleep(100);
                }
            }

            Assert.True(found, $"the /proc search did not find the look-alike process {lookalike.Id}, whose command line reads '{ReadCommandLine(lookalike.Id)}'");
        }
        finally
        {
            lookalike.Kill(entireProcessTree: true);
            lookalike.WaitForExit();
        }
    }

    /// <summary>Whether a process is still there (Linux: its /proc entry), waiting up to 30 s for it to go.</summary>
    private static bool StillRunning(int pid)
    {
        for (var waited = 0; waited < 300 && Directory.Exists($"/proc/{pid}"); waited++)
        {
            Thread.Sleep(100);
        }

        return Directory.Exists($"/proc/{pid}");
    }

    [Fact]
    public void Build_AppSourceChanged_StartsTheImageBuildBeforeThePublishAndTakesItOver()
    {
        var fixture = AppWithLibrary(out var root);
        fixture.BuildOk();
        var before = Layers(fixture);
        var profile = Path.Combine(fixture.Directory, "obj", "Debug", "kiln", "engine-build.jitprofile");
        var recorded = File.GetLastWriteTimeUtc(profile);

        Write(root, "app/Program.cs", "System.Console.WriteLine(Lib.Greeting.Text + \" v3\");\n");
        var rebuild = fixture.BuildOk();

        // Started before MSBuild ran the app's Publish, waited for it, then went on with what it published.
        var output = rebuild.Output;
        Assert.True(output.IndexOf(StartedEarly, StringComparison.Ordinal) is >= 0 and var started && started < output.IndexOf(PublishRan, StringComparison.Ordinal), output);
        Assert.Contains(TakenOver, output, StringComparison.Ordinal);
        Assert.Contains("kiln: bases resolved; waiting for the published output", output, StringComparison.Ordinal);
        Assert.DoesNotContain(CalledOff, output, StringComparison.Ordinal);
        Assert.NotEqual(before[1].Digest, Layers(fixture)[1].Digest);
        Assert.False(StillRunning(EarlyEngineProcess(rebuild)));

        // The first build recorded the engine's JIT profile; a profile newer than the engine is only played back.
        Assert.True(File.Exists(profile), profile);
        Assert.Equal(recorded, File.GetLastWriteTimeUtc(profile));
    }

    [Fact]
    public void Build_PublishChangesNothing_CallsOffTheEarlyImageBuildWithoutWriting()
    {
        var fixture = AppWithLibrary(out _);
        fixture.BuildOk();
        var release = File.ReadAllBytes(fixture.ReleasePath);
        var written = File.GetLastWriteTimeUtc(fixture.ReleasePath);

        // Publishing an unchanged app copies nothing, so the images stay up to date: the engine started for it stops.
        var again = fixture.BuildOk("-p:KilnPublishAlways=true");

        Assert.Contains(PublishRan, again.Output, StringComparison.Ordinal);
        Assert.Contains(CalledOff, again.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(TakenOver, again.Output, StringComparison.Ordinal);
        Assert.False(StillRunning(EarlyEngineProcess(again)));
        Assert.Equal(release, File.ReadAllBytes(fixture.ReleasePath));
        Assert.Equal(written, File.GetLastWriteTimeUtc(fixture.ReleasePath));
    }

    [Fact]
    public void Build_PublishFails_StopsTheEarlyImageBuildAndTheNextBuildSucceeds()
    {
        var fixture = AppWithLibrary(out var root);
        fixture.BuildOk();
        var digest = fixture.ReadRelease().Digests["devloop:1.0.0"];

        Write(root, "app/Program.cs", "System.Console.WriteLine(Lib.Greeting.Text + \" v4\")\n"); // no ';'
        var broken = fixture.Build();

        Assert.NotEqual(0, broken.ExitCode);
        Assert.Contains("error CS1002", broken.Output, StringComparison.Ordinal);
        Assert.Contains(StartedEarly, broken.Output, StringComparison.Ordinal);
        Assert.Empty(EnginesWaitingFor(fixture)); // the engine started before the failed publish is gone
        AssertTheSearchFindsALookalike(fixture);
        Assert.Equal(digest, fixture.ReadRelease().Digests["devloop:1.0.0"]);

        // Nothing holds the output directory: the mended app builds at once.
        Write(root, "app/Program.cs", "System.Console.WriteLine(Lib.Greeting.Text + \" v4\");\n");
        fixture.BuildOk();
        Assert.NotEqual(digest, fixture.ReadRelease().Digests["devloop:1.0.0"]);
    }

    [Fact]
    public void Build_TwoAppsChanged_TheEarlyImageBuildWaitsForBothPublishes()
    {
        // A second server publishing app2/, which the first one's changes never touch.
        var fixture = AppWithLibrary(out var root, """

            public sealed class App2 : ServerSpec
            {
                public override string Name => "devloop-two";
                public override string Version => "1.0.0";
                public override ImmutableArray<Layer> Layers => [Layer.PublishOutput("../app2/App2.csproj", to: "/app")];
                public override Entrypoint Entrypoint => new("/usr/bin/dotnet", "/app/App2.dll");
            }
            """);
        Write(root, "app2/App2.csproj", File.ReadAllText(Path.Combine(root, "app/App.csproj")));
        Write(root, "app2/Program.cs", "System.Console.WriteLine(Lib.Greeting.Text + \" two v1\");\n");
        fixture.BuildOk();
        var first = fixture.ReadRelease().Digests;
        string lastOutput = "";
        IReadOnlyDictionary<string, string> RebuildWithTheEarlyEngine()
        {
            lastOutput = fixture.BuildOk().Output;
            Assert.Contains(TakenOver, lastOutput, StringComparison.Ordinal);
            return fixture.ReadRelease().Digests;
        }

        // Where the engine's first line for an app's layers ("kiln: cached|wrote DIGEST SIZE publish:../appN/AppN.csproj") is in the log.
        int LayerLine(string project) => lastOutput.IndexOf($"publish:../app{project}/App{project}.csproj", StringComparison.Ordinal);

        // Only app2 changes: app's output is read while app2 publishes, and its image built before the wait; app2's after it.
        Write(root, "app2/Program.cs", "System.Console.WriteLine(Lib.Greeting.Text + \" two v2\");\n");
        var second = RebuildWithTheEarlyEngine();
        Assert.Equal(first["devloop:1.0.0"], second["devloop:1.0.0"]);
        Assert.NotEqual(first["devloop-two:1.0.0"], second["devloop-two:1.0.0"]);
        var waiting = lastOutput.IndexOf("kiln: bases resolved; waiting for the published output", StringComparison.Ordinal);
        Assert.True(LayerLine("") is >= 0 and var app && app < waiting, lastOutput);
        Assert.True(LayerLine("2") > waiting, lastOutput);

        // Both change: the engine started early waits for both publishes, and both images move.
        Write(root, "app/Program.cs", "System.Console.WriteLine(Lib.Greeting.Text + \" v6\");\n");
        Write(root, "app2/Program.cs", "System.Console.WriteLine(Lib.Greeting.Text + \" two v3\");\n");
        var third = RebuildWithTheEarlyEngine();
        Assert.NotEqual(second["devloop:1.0.0"], third["devloop:1.0.0"]);
        Assert.NotEqual(second["devloop-two:1.0.0"], third["devloop-two:1.0.0"]);
    }

    [Fact]
    public void Build_KilnStartImageBuildEarlyFalse_BuildsAfterThePublish()
    {
        var fixture = AppWithLibrary(out var root);
        fixture.BuildOk();
        var before = Layers(fixture);

        Write(root, "app/Program.cs", "System.Console.WriteLine(Lib.Greeting.Text + \" v5\");\n");
        var rebuild = fixture.BuildOk("-p:KilnStartImageBuildEarly=false");

        Assert.DoesNotContain(StartedEarly, rebuild.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(TakenOver, rebuild.Output, StringComparison.Ordinal);
        Assert.NotEqual(before[1].Digest, Layers(fixture)[1].Digest);
    }
}
