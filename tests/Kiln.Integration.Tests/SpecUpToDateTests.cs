using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// The spec project's fast up-to-date check: an unchanged spec project skips its compile targets, and every kind of
/// change a normal incremental build would compile again for is seen: an edited or added source (whatever its time),
/// a property from the environment or from an import that is gone, a global property, an .editorconfig above the
/// sources, an output changed after the build, and a failed build.
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class SpecUpToDateTests(KilnPackage package)
{
    private const string UpToDate = "Kiln: the spec project is up to date";
    private const string Building = "Kiln: building the spec project: ";
    // Printed by MSBuild when the compile target runs and finds nothing to do: the usual up-to-date build.
    private const string CompileSkipped = "Skipping target \"CoreCompile\" because all output files are up-to-date";

    private static string Assembly(FixtureProject fixture) => Path.Combine(fixture.Directory, "obj", "Debug", "net10.0", "Fixture.dll");

    /// <summary>
    /// The spec project of <paramref name="build"/> was up to date; else the Kiln lines of it and of the build before it
    /// (which may say why it left no record: an input written too recently to trust its time stamp).
    /// </summary>
    private static void AssertUpToDate(ProcessResult build, ProcessResult before) =>
        Assert.True(build.Output.Contains(UpToDate, StringComparison.Ordinal),
            "the spec project was not up to date. The build before:\n" + EngineServerTests.KilnLines(before.Output) + "\nThis build:\n" + EngineServerTests.KilnLines(build.Output));

    private static string Record(FixtureProject fixture) => Path.Combine(fixture.Directory, "obj", "Debug", "net10.0", "Fixture.csproj.kiln-uptodate");

    [Fact]
    public void Build_Unchanged_SkipsTheCompileTargets_AnEditOrAnOldAddedFileIsCompiled()
    {
        var fixture = BuildTests.TwoServerFixture(package);
        var first = fixture.BuildOk();
        var compiled = File.GetLastWriteTimeUtc(Assembly(fixture));

        var second = fixture.BuildOk();
        var off = fixture.BuildOk("-p:KilnSpecUpToDateCheck=false");

        AssertUpToDate(second, first);
        Assert.DoesNotContain(CompileSkipped, second.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("CoreCompile", second.Output, StringComparison.Ordinal);
        Assert.Equal(compiled, File.GetLastWriteTimeUtc(Assembly(fixture)));
        // Turned off: the usual up-to-date build, which runs the compile target to find nothing to do.
        Assert.DoesNotContain(UpToDate, off.Output, StringComparison.Ordinal);
        Assert.Contains(CompileSkipped, off.Output, StringComparison.Ordinal);

        // Back with the check on (the global property changed back: compared again, then up to date).
        fixture.BuildOk();
        fixture.Write("Specs.cs", File.ReadAllText(Path.Combine(fixture.Directory, "Specs.cs")).Replace("\"0.9.0\"", "\"0.9.1\"", StringComparison.Ordinal));
        var edited = fixture.BuildOk();

        Assert.Contains(Building + "'" + Path.Combine(fixture.Directory, "Specs.cs") + "' changed", edited.Output, StringComparison.Ordinal);
        Assert.Contains("fixture-worker:0.9.1", fixture.ReadRelease().Digests.Keys);

        // A file added with a time older than the last build (copied with its time kept, or from an archive): the
        // list of sources changed, so it is compiled although no time is newer.
        fixture.Write("More.cs", """
            using System.Collections.Immutable;
            using Kiln.Spec;

            namespace Fixture;

            public sealed class Batch : ServerSpec
            {
                public override string Name => "fixture-batch";
                public override string Version => "3.0.0";
                public override ImmutableArray<Layer> Layers => [Layer.File("files/app.sh", to: "/batch/run.sh")];
                public override Entrypoint Entrypoint => new("/batch/run.sh");
            }
            """);
        File.SetLastWriteTimeUtc(Path.Combine(fixture.Directory, "More.cs"), new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var added = fixture.BuildOk();

        Assert.Contains(Building + "'" + Path.Combine(fixture.Directory, "More.cs") + "' is new", added.Output, StringComparison.Ordinal);
        Assert.Contains("fixture-batch:3.0.0", fixture.ReadRelease().Digests.Keys);
    }

    [Fact]
    public void Build_PropertyFromTheEnvironmentOrFromAnImportThatIsGone_IsCompiled()
    {
        // The version comes from a compilation symbol, set by an environment variable or by an optional import.
        var fixture = new FixtureProject(package)
            .Write("Directory.Build.props", """
                <Project>
                  <Import Project="alt.props" Condition="Exists('$(MSBuildThisFileDirectory)alt.props')" />
                  <PropertyGroup Condition="'$(FIXTURE_ALT)' == 'true'">
                    <DefineConstants>$(DefineConstants);FIXTURE_ALT</DefineConstants>
                  </PropertyGroup>
                </Project>
                """)
            .Write("files/app.sh", "#!/bin/sh\n")
            .Specs("""
                public sealed class Api : ServerSpec
                {
                    public override string Name => "switch";
                #if FIXTURE_ALT
                    public override string Version => "2.0.0";
                #else
                    public override string Version => "1.0.0";
                #endif
                    public override ImmutableArray<Layer> Layers => [Layer.File("files/app.sh", to: "/app/app.sh")];
                    public override Entrypoint Entrypoint => new("/app/app.sh");
                }
                """);
        var before1 = fixture.BuildOk();
        AssertUpToDate(fixture.BuildOk(), before1);

        var fromEnvironment = fixture.Build(new Dictionary<string, string?> { ["FIXTURE_ALT"] = "true" });
        Assert.True(fromEnvironment.ExitCode == 0, fromEnvironment.Output);
        Assert.Contains(Building + "the environment variable FIXTURE_ALT is new", fromEnvironment.Output, StringComparison.Ordinal);
        Assert.Equal(["switch:2.0.0"], fixture.ReadRelease().Digests.Keys);

        var without = fixture.BuildOk();
        Assert.Contains(Building + "the environment variable FIXTURE_ALT is gone", without.Output, StringComparison.Ordinal);
        Assert.Equal(["switch:1.0.0"], fixture.ReadRelease().Digests.Keys);

        // An import that sets the symbol, older than everything else, then deleted: no file got newer, and the
        // newest import stays the same, but the property the compile reads changed.
        var alt = Path.Combine(fixture.Directory, "alt.props");
        File.WriteAllText(alt, "<Project><PropertyGroup><DefineConstants>$(DefineConstants);FIXTURE_ALT</DefineConstants></PropertyGroup></Project>\n");
        File.SetLastWriteTimeUtc(alt, new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var withImport = fixture.BuildOk();
        Assert.Equal(["switch:2.0.0"], fixture.ReadRelease().Digests.Keys);
        AssertUpToDate(fixture.BuildOk(), withImport);

        File.Delete(alt);
        var gone = fixture.BuildOk();

        Assert.Contains(Building + "the property DefineConstants changed", gone.Output, StringComparison.Ordinal);
        Assert.Equal(["switch:1.0.0"], fixture.ReadRelease().Digests.Keys);
    }

    [Fact]
    public void Build_EditorConfigAboveTheSources_OutputChanged_FailedBuild_AreNotSkipped()
    {
        var fixture = BuildTests.TwoServerFixture(package);
        var specs = Path.Combine(fixture.Directory, "Specs.cs");
        // A warning in spec code (CS0219: assigned but never used), which an .editorconfig can make an error.
        File.AppendAllText(specs, "\ninternal static class Helpers\n{\n    internal static void Unused()\n    {\n        var unused = 1;\n    }\n}\n");
        var before2 = fixture.BuildOk();
        AssertUpToDate(fixture.BuildOk(), before2);

        // An output changed after the build (another tool, another build of the same directory): compiled again.
        File.Delete(Assembly(fixture));
        var deleted = fixture.BuildOk();
        Assert.Contains(Building + "'" + Assembly(fixture) + "', written by its last build, changed or is gone", deleted.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Assembly(fixture)));

        // An .editorconfig created next to the sources: the compiler reads it, so the build must run the compile.
        fixture.Write(".editorconfig", "root = true\n\n[*.cs]\ndotnet_diagnostic.CS0219.severity = error\n");
        var failed = fixture.Build();

        Assert.NotEqual(0, failed.ExitCode);
        Assert.Contains(Building + "'" + Path.Combine(fixture.Directory, ".editorconfig") + "' changed", failed.Output, StringComparison.Ordinal);
        Assert.Contains("error CS0219", failed.Output, StringComparison.Ordinal);
        // A failed build leaves no record, so the next one compiles (and fails) again.
        Assert.False(File.Exists(Record(fixture)), "a failed build left a record of a successful one");
        var again = fixture.Build();
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("error CS0219", again.Output, StringComparison.Ordinal);
        Assert.Contains(Building + "no record of an earlier build of it", again.Output, StringComparison.Ordinal);

        File.Delete(Path.Combine(fixture.Directory, ".editorconfig"));
        var before3 = fixture.BuildOk();
        AssertUpToDate(fixture.BuildOk(), before3);
    }
}
