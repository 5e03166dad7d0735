using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>Bad input gets a coded error that names the spec and the problem, and leaves no half-written artifact.</summary>
[Collection(KilnCollection.Name)]
public sealed class BadInputTests(KilnPackage package)
{
    private static string Spec(string members, string name = "Bad") => $$"""
        public sealed class {{name}} : ServerSpec
        {
            public override string Name => "bad";
            public override string Version => "1.0.0";
        {{members}}
        }
        """;

    private ProcessResult BuildFails(FixtureProject fixture, string code)
    {
        var result = fixture.Build();
        Assert.True(result.ExitCode != 0, "the build should fail:\n" + result.Output);
        Assert.Contains($"error {code}:", result.Output, StringComparison.Ordinal);
        Assert.Contains("Fixture.Bad", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at Kiln.", result.Output, StringComparison.Ordinal); // no stack trace
        fixture.AssertNoArtifacts("no artifact may be written for bad input");
        return result;
    }

    [Fact]
    public void Verbs_ReleaseJsonLackingAField_ReportKiln5020NamingFileAndField()
    {
        var fixture = new FixtureProject(package);
        fixture.Write("bin/Debug/kiln/release.json", """{ "kind": "KilnRelease", "schemaVersion": 1, "layout": "oci", "images": [ { "name": "api", "version": "1.0.0" } ] }""");
        var release = Path.Combine("bin", "Debug", "kiln", "release.json");
        Assert.Equal(0, fixture.Build("-t:Restore").ExitCode); // puts the packed engine (kiln.dll) in the test's package cache

        foreach (string[] verb in new[]
        {
            new[] { "plan", release, release },
            ["push", Path.Combine("bin", "Debug", "kiln"), "--registry", "localhost:1"],
            ["diff", release, release],
            ["query", "limits.openFiles", release],
        })
        {
            var result = KilnCli.Run(package, fixture.Directory, verb);

            Assert.True(result.ExitCode != 0, $"kiln {verb[0]} should fail:\n{result.Output}");
            Assert.Contains("error KILN5020:", result.Output, StringComparison.Ordinal);
            Assert.Contains("release.json", result.Output, StringComparison.Ordinal);
            Assert.Contains("field 'images[0].reference' is missing", result.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("This is a bug in Kiln", result.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", result.Output, StringComparison.Ordinal); // no stack trace
        }
    }

    [Fact]
    public void Build_DeploySettingRefused_CreatesNoOutputDirectory()
    {
        var fixture = new FixtureProject(package)
            .Write("run.sh", "#!/bin/sh\necho ok\n")
            .Specs(Spec("""
                public override ImmutableArray<Layer> Layers => [Layer.File("run.sh", to: "/app/run.sh")];
                public override Entrypoint Entrypoint => new("/app/run.sh");
            """));

        var result = fixture.Build("-p:KilnRegistry=https://registry.example.com");

        Assert.True(result.ExitCode != 0, "the build should fail:\n" + result.Output);
        Assert.Contains("error KILN2102:", result.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(fixture.OutputDirectory), "a build refused before it plans must not create the output directory (nor its lock files)");
    }

    [Fact]
    public void Build_MissingInputFile_ReportsKiln2009()
    {
        var fixture = new FixtureProject(package).Specs(Spec("""    public override ImmutableArray<Layer> Layers => [Layer.File("missing.txt", to: "/app/missing.txt")];"""));
        var result = BuildFails(fixture, "KILN2009");
        Assert.Contains("missing.txt", result.Output, StringComparison.Ordinal);
        Assert.Contains("Specs.cs(", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_DestinationEscapingRoot_ReportsKiln2008()
    {
        var fixture = new FixtureProject(package)
            .Write("a.txt", "a\n")
            .Specs(Spec("""    public override ImmutableArray<Layer> Layers => [Layer.File("a.txt", to: "/app/../../etc/passwd")];"""));
        BuildFails(fixture, "KILN2008");
    }

    [Fact]
    public void Build_TwoLayersWritingOnePathDifferently_ReportsKiln2011()
    {
        var fixture = new FixtureProject(package)
            .Write("a.txt", "a\n")
            .Write("b.txt", "b\n")
            .Specs(Spec("""    public override ImmutableArray<Layer> Layers => [Layer.File("a.txt", to: "/etc/app.conf"), Layer.File("b.txt", to: "/etc/app.conf")];"""));
        var result = BuildFails(fixture, "KILN2011");
        Assert.Contains("/etc/app.conf", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_InvalidVersion_ReportsKiln2004AtTheVersionLine()
    {
        var fixture = new FixtureProject(package).Specs("""
            public sealed class Bad : ServerSpec
            {
                public override string Name => "bad";
                public override string Version => Versions.Current();
            }

            // Computed, so only evaluation can see it (a literal "1.0" is already a compile error, KILN0023).
            internal static class Versions
            {
                public static string Current() => string.Join('.', 1, 0);
            }
            """);
        var result = BuildFails(fixture, "KILN2004");
        Assert.Contains("Specs.cs(9)", result.Output, StringComparison.Ordinal); // 5 header lines + the Version getter on line 4
    }

    [Fact]
    public void Build_PortOutOfRange_ReportsKiln2006()
    {
        var fixture = new FixtureProject(package).Specs(Spec("""    public override ImmutableArray<Port> Ports => [Port.Tcp(int.Parse("70000"))];""")); // computed: a literal is KILN0020 at compile time
        var result = BuildFails(fixture, "KILN2006");
        Assert.Contains("70000", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_SpecCodeThrows_ReportsKiln2001WithTheExceptionAndLine()
    {
        var fixture = new FixtureProject(package).Specs(Spec("""    public override Limits Limits => throw new InvalidOperationException("limits are not configured");"""));
        var result = BuildFails(fixture, "KILN2001");
        Assert.Contains("limits are not configured", result.Output, StringComparison.Ordinal);
        Assert.Contains("Specs.cs(10)", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_BaseLayoutMissing_ReportsKiln2012()
    {
        var fixture = new FixtureProject(package).Specs(Spec("""    public override BaseImage Base => BaseImage.OciLayout("no-such-layout", "base:1");"""));
        var result = BuildFails(fixture, "KILN2012");
        Assert.Contains("no-such-layout", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_BadEditAfterGoodBuild_KeepsPreviousArtifactsIntact()
    {
        var fixture = BuildTests.TwoServerFixture(package);
        fixture.BuildOk();
        var release = File.ReadAllText(fixture.ReleasePath);
        var index = File.ReadAllText(Path.Combine(fixture.LayoutDirectory, "index.json"));

        fixture.Specs(BuildTests.TwoServers.Replace("Port.Tcp(8080)", "Port.Tcp(int.Parse(\"0\"))", StringComparison.Ordinal));
        var result = fixture.Build();

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("error KILN2006:", result.Output, StringComparison.Ordinal);
        Assert.Equal(release, File.ReadAllText(fixture.ReleasePath));
        Assert.Equal(index, File.ReadAllText(Path.Combine(fixture.LayoutDirectory, "index.json")));
    }
}
