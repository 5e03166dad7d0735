using System.Text.Json;
using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>sbom/&lt;name&gt;-&lt;version&gt;.cdx.json: the NuGet packages of a published .NET app, valid CycloneDX 1.6.</summary>
[Collection(KilnCollection.Name)]
public sealed class SbomTests(KilnPackage package)
{
    [SkippableFact]
    public void Sbom_EveryImage_SatisfiesTheOfficialCycloneDxSchema()
    {
        var fixture = new FixtureProject(package).Specs(DiffTests.Spec("1.0.0", 1024)).Write("app.conf", "mode=a\n").Write("static.txt", "same\n");
        fixture.BuildOk();

        var sboms = Directory.GetFiles(Path.Combine(fixture.OutputDirectory, "sbom"), "*.cdx.json").Order(StringComparer.Ordinal).ToList();

        Assert.Equal(["diff-api-1.0.0.cdx.json", "diff-worker-2.0.0.cdx.json"], sboms.Select(Path.GetFileName));
        foreach (var sbom in sboms)
        {
            ArtifactSchemas.ValidateSbom(sbom);
        }

        // The check can fail: the same SBOM with a component the schema forbids is rejected.
        var broken = Path.Combine(fixture.Directory, "broken.cdx.json");
        File.WriteAllText(broken, File.ReadAllText(sboms[0]).Replace("\"type\": \"library\"", "\"type\": \"gadget\"", StringComparison.Ordinal).Replace("\"components\": []", "\"components\": [{ \"type\": \"gadget\", \"name\": \"x\" }]", StringComparison.Ordinal));
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => ArtifactSchemas.ValidateSbom(broken));
    }

    [SkippableFact]
    public void Build_PublishOutputLayer_SbomListsTheAppsNuGetPackagesAndSatisfiesCycloneDxSchema()
    {
        var fixture = new FixtureProject(package);
        // The app lives beside the spec project (not inside it, where its sources would compile into the specs), with
        // a feed that serves its package restored into the test run's own package cache.
        var app = Path.Combine(Path.GetDirectoryName(fixture.Directory)!, "sbom-app-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(app);
        File.WriteAllText(Path.Combine(app, "App.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Humanizer.Core" Version="2.14.1" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), "System.Console.WriteLine(Humanizer.StringHumanizeExtensions.Humanize(\"sbom_app\"));\n");
        File.WriteAllText(Path.Combine(app, "nuget.config"), """
            <?xml version="1.0" encoding="utf-8"?>
            <configuration><packageSources><clear /><add key="nuget.org" value="https://api.nuget.org/v3/index.json" /></packageSources></configuration>
            """);
        fixture.Specs($$"""
            public sealed class App : ServerSpec
            {
                public override string Name => "sbom-app";
                public override string Version => "1.0.0";
                public override ImmutableArray<Layer> Layers => [Layer.PublishOutput("../{{Path.GetFileName(app)}}/App.csproj", to: "/app")];
                public override Entrypoint Entrypoint => new("/usr/bin/dotnet", "/app/App.dll");
            }
            """);

        fixture.BuildOk();

        var sbom = Path.Combine(fixture.OutputDirectory, "sbom", "sbom-app-1.0.0.cdx.json");
        using var document = JsonDocument.Parse(File.ReadAllText(sbom));
        var humanizer = document.RootElement.GetProperty("components").EnumerateArray()
            .Single(c => c.GetProperty("purl").GetString() == "pkg:nuget/Humanizer.Core@2.14.1");
        Assert.Equal("SHA-512", humanizer.GetProperty("hashes")[0].GetProperty("alg").GetString());
        Assert.Matches("^[0-9a-f]{128}$", humanizer.GetProperty("hashes")[0].GetProperty("content").GetString());
        var image = fixture.ReadRelease().Digests["sbom-app:1.0.0"];
        Assert.Equal(image.Split(':')[1], document.RootElement.GetProperty("metadata").GetProperty("component").GetProperty("hashes")[0].GetProperty("content").GetString());
        ArtifactSchemas.ValidateSbom(sbom);
    }
}
