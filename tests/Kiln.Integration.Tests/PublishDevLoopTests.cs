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
    private FixtureProject AppWithLibrary(out string root)
    {
        root = Path.Combine(package.Root, "projects", "devloop-" + Guid.NewGuid().ToString("N")[..8]);
        var fixture = new FixtureProject(package, directory: Path.Combine(root, "specs"));
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
            """);
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
}
