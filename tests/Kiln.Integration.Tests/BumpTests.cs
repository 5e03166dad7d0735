using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// `kiln bump` as shipped in the package: it finds a spec by file, class name or server name, raises the Version
/// literal (patch, minor, major) and leaves every other byte of the source as it was; anything it cannot rewrite is
/// a coded error that changes nothing.
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class BumpTests(KilnPackage package)
{
    // Comments, odd spacing, a verbatim string equal to the version elsewhere, a second spec in the same file, CRLF
    // nowhere and a trailing comment on the Version line: all of it must survive.
    private const string Source = """
        // Shop specs. Version "1.4.2" is mentioned here on purpose.
        public sealed class ShopApi : ServerSpec
        {
            public override string Name    =>   "shop-api";   // aligned by hand
            /* the released version */
            public override string Version =>   "1.4.2";      // bump me
            public override ImmutableArray<EnvironmentVariable> Environment => [new("API_VERSION", "1.4.2")];
            public override Entrypoint Entrypoint => new("/app/run");
        }

        public sealed class ShopWorker : ServerSpec
        {
            public override string Name => "shop-worker";
            public override string Version
            {
                get { return "0.9.9"; }
            }
            public override Entrypoint Entrypoint => new("/app/work");
        }
        """;

    private FixtureProject Fixture(string specs)
    {
        var fixture = new FixtureProject(package).Specs(specs);
        // The packed engine reaches the package cache with the first restore of any fixture.
        var restore = fixture.MSBuild("-t:Restore");
        Assert.True(restore.ExitCode == 0, restore.Output);
        return fixture;
    }

    private string Bump(FixtureProject fixture, out int exitCode, params string[] arguments)
    {
        var result = KilnCli.Run(package, fixture.Directory, ["bump", .. arguments]);
        exitCode = result.ExitCode;
        return result.Output;
    }

    [Fact]
    public void Bump_PatchByFileMinorByClassMajorByName_RewritesOnlyTheVersionLiteral()
    {
        var fixture = Fixture(Source);
        var path = Path.Combine(fixture.Directory, "Specs.cs");
        var original = File.ReadAllText(path);

        var patched = Bump(fixture, out var patchExit, path);
        Assert.True(patchExit == 0, patched);
        Assert.Contains("Version 1.4.2 -> 1.4.3", patched, StringComparison.Ordinal);
        Assert.Equal(original.Replace("Version =>   \"1.4.2\";", "Version =>   \"1.4.3\";", StringComparison.Ordinal), File.ReadAllText(path));

        var minor = Bump(fixture, out var minorExit, "ShopApi", "--minor", "--project", fixture.Directory);
        Assert.True(minorExit == 0, minor);
        Assert.Equal(original.Replace("Version =>   \"1.4.2\";", "Version =>   \"1.5.0\";", StringComparison.Ordinal), File.ReadAllText(path));

        var major = Bump(fixture, out var majorExit, "shop-api", "--major", "--project", fixture.Directory);
        Assert.True(majorExit == 0, major);
        Assert.Equal(original.Replace("Version =>   \"1.4.2\";", "Version =>   \"2.0.0\";", StringComparison.Ordinal), File.ReadAllText(path));

        // The other spec of the file, by its server name, in its accessor-body form.
        var worker = Bump(fixture, out var workerExit, "shop-worker", "--project", fixture.Directory);
        Assert.True(workerExit == 0, worker);
        Assert.Equal(
            original.Replace("Version =>   \"1.4.2\";", "Version =>   \"2.0.0\";", StringComparison.Ordinal).Replace("get { return \"0.9.9\"; }", "get { return \"0.9.10\"; }", StringComparison.Ordinal),
            File.ReadAllText(path));

        // The bumped source still compiles and evaluates: the build locks the new versions.
        var build = fixture.Build();
        Assert.True(build.ExitCode == 0, build.Output);
        Assert.True(File.Exists(Path.Combine(fixture.OutputDirectory, "manifests", "shop-api-2.0.0.json")));
        Assert.True(File.Exists(Path.Combine(fixture.OutputDirectory, "manifests", "shop-worker-0.9.10.json")));
    }

    [Theory]
    [InlineData("public override string Version => Versions.Api;", "is not a string literal")]
    [InlineData("public override string Version => $\"1.{Minor}.0\";", "is not a string literal")]
    [InlineData("public override string Version => \"1.4\";", "not MAJOR.MINOR.PATCH")]
    [InlineData("public override string Version => \"1.4.2-rc.1\";", "not MAJOR.MINOR.PATCH")]
    public void Bump_VersionNotARewritableLiteral_Kiln2054NamingFileAndLineAndChangingNothing(string versionLine, string reason)
    {
        var fixture = Fixture($$"""
            public static class Versions { public const string Api = "1.4.2"; }

            public sealed class ShopApi : ServerSpec
            {
                private const int Minor = 4;
                public override string Name => "shop-api";
                {{versionLine}}
                public override Entrypoint Entrypoint => new("/app/run");
            }
            """);
        var path = Path.Combine(fixture.Directory, "Specs.cs");
        var before = File.ReadAllBytes(path);

        var output = Bump(fixture, out var exitCode, "shop-api", "--project", fixture.Directory);

        Assert.Equal(16, exitCode); // a coded failure (docs/cli.md)
        Assert.Contains("KILN2054", output, StringComparison.Ordinal);
        Assert.Contains(reason, output, StringComparison.Ordinal);
        Assert.Contains($"{path}(12)", output, StringComparison.Ordinal); // the Version line after the Specs.cs header
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void Bump_NoSuchSpec_Kiln2055AndNothingChanged()
    {
        var fixture = Fixture(Source);
        var path = Path.Combine(fixture.Directory, "Specs.cs");
        var before = File.ReadAllBytes(path);

        var output = Bump(fixture, out var exitCode, "shop-web", "--project", fixture.Directory);

        Assert.Equal(16, exitCode); // a coded failure (docs/cli.md)
        Assert.Contains("KILN2055", output, StringComparison.Ordinal);
        Assert.Contains("'shop-web'", output, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(path));
    }
}
