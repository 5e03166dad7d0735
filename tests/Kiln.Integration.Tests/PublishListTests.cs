using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// publish.txt, from the engine to Kiln.Build.targets to the MSBuild task that publishes: a project path holding
/// MSBuild's special characters (and the line format's own separator) reaches MSBuild as written.
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class PublishListTests(KilnPackage package)
{
    [SkippableFact]
    public void Build_PublishProjectPathWithSemicolonAndSpecialCharacters_PublishesItAndTakesItsOutput()
    {
        var fixture = new FixtureProject(package);
        // Beside the spec project, so that its sources do not compile into the specs (in a directory without a
        // ';', which NuGet restore cannot take). The project's file name also
        // starts the publish key, which keeps only its path-safe characters.
        // No '%xx' in the directory: MSBuild unescapes it in project paths itself, so the SDK cannot build such a
        // project even without Kiln (NETSDK1004: it looks for obj/ under the unescaped name).
        var app = Path.Combine(Path.GetDirectoryName(fixture.Directory)!, "app v2 $x@y|z-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(app);
        File.WriteAllText(Path.Combine(app, "Shop;Api.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <AssemblyName>ShopApi</AssemblyName>
              </PropertyGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), "System.Console.WriteLine(\"app\");\n");
        File.WriteAllText(Path.Combine(app, "nuget.config"), File.ReadAllText(Path.Combine(fixture.Directory, "nuget.config")));
        var relative = "../" + Path.GetFileName(app) + "/Shop;Api.csproj";
        fixture.Specs($$"""
            public sealed class App : ServerSpec
            {
                public override string Name => "semicolon-app";
                public override string Version => "1.0.0";
                public override ImmutableArray<Layer> Layers => [Layer.PublishOutput("{{relative.Replace("\\", "\\\\", StringComparison.Ordinal)}}", to: "/app")];
                public override Entrypoint Entrypoint => new("/usr/bin/dotnet", "/app/ShopApi.dll");
            }
            """);

        fixture.BuildOk();

        // The list escapes the separators (a raw ';' would split the project item, a raw '|' the line)...
        var line = Assert.Single(File.ReadAllLines(Path.Combine(fixture.Directory, "obj", "Debug", "kiln", "publish.txt")));
        var fields = line.Split('|');
        Assert.Equal(4, fields.Length);
        Assert.Equal(Path.Combine(app, "Shop;Api.csproj"), Uri.UnescapeDataString(fields[1]));
        Assert.DoesNotContain(";", fields[1], StringComparison.Ordinal);
        // ...and MSBuild restored and published the project (its path was not cut at the ';'), and the image took its files.
        var published = Assert.Single(Directory.GetDirectories(Path.Combine(fixture.Directory, "obj", "Debug", "kiln", "publish")));
        // The SDK refuses a PublishDir holding ';', so the key (the directory's name) replaces it.
        Assert.StartsWith("Shop_Api-", Path.GetFileName(published), StringComparison.Ordinal);
        Assert.Equal(published + "/", Uri.UnescapeDataString(fields[2]));
        Assert.True(File.Exists(Path.Combine(published, "ShopApi.dll")), $"no ShopApi.dll in '{published}'");
        var inventory = File.ReadAllText(Path.Combine(fixture.OutputDirectory, "inventory", "semicolon-app-1.0.0.txt"));
        Assert.Contains("/app/ShopApi.dll", inventory, StringComparison.Ordinal);
    }
}
