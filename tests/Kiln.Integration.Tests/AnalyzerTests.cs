using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>The analyzers shipped in Kiln.Build run in a plain dotnet build of a user's project.</summary>
[Collection(KilnCollection.Name)]
public sealed class AnalyzerTests(KilnPackage package)
{
    private const string Violations = """
        public sealed class Mutable : ServerSpec
        {
            public override string Name => "mutable";
            public override string Version => "1.0.0";
            public int Replicas { get; set; } = 2;
            public override Account Account => Account.Root;
            public override Entrypoint Entrypoint => Entrypoint.Shell("apt-get install -y curl && /app/run");
            public override ImmutableArray<Port> Ports => [Port.Tcp(22)];
        }
        """;

    private const string Fixed = """
        public sealed class Mutable : ServerSpec
        {
            public override string Name => "mutable";
            public override string Version => "1.0.0";
            public int Replicas { get; init; } = 2;
            public override Account Account => Account.NonRoot("app", 10001);
            public override Entrypoint Entrypoint => new("/app/run");
            public override ImmutableArray<Port> Ports => [Port.Tcp(8080)];
        }
        """;

    [Fact]
    public void Build_SpecWithViolations_ReportsKilnWarningsWithFileAndLine()
    {
        var fixture = new FixtureProject(package).Specs(Violations);

        var result = fixture.BuildOk();

        // Specs.cs starts the class on line 6 (five header lines).
        Assert.Contains("Specs.cs(10,", result.Output, StringComparison.Ordinal);
        Assert.Matches(@"Specs\.cs\(10,\d+\): warning KILN0001", result.Output);
        Assert.Matches(@"Specs\.cs\(11,\d+\): warning KILN0009", result.Output);
        Assert.Matches(@"Specs\.cs\(12,\d+\): warning KILN0017", result.Output);
        Assert.Matches(@"Specs\.cs\(13,\d+\): warning KILN0024", result.Output);
    }

    [Fact]
    public void Build_ViolationsWithTreatWarningsAsErrors_Fails()
    {
        var fixture = new FixtureProject(package).Specs(Violations);

        var result = fixture.Build("-p:TreatWarningsAsErrors=true");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Matches(@"Specs\.cs\(11,\d+\): error KILN0009", result.Output);
        Assert.False(File.Exists(fixture.ReleasePath), "no image may be built from a spec that failed to compile");
    }

    [Fact]
    public void Build_StrictAnalysisMode_MakesEveryRuleAnError()
    {
        var fixture = new FixtureProject(package).Specs(Violations);

        var result = fixture.Build("-p:KilnAnalysisMode=strict");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Matches(@"Specs\.cs\(10,\d+\): error KILN0001", result.Output);
    }

    [Fact]
    public void Build_ViolationsFixed_IsCleanAndBuildsImages()
    {
        var fixture = new FixtureProject(package).Specs(Fixed);

        var result = fixture.BuildOk("-p:TreatWarningsAsErrors=true");

        Assert.DoesNotMatch(@"warning KILN0\d{3}", result.Output);
        Assert.Contains("mutable:1.0.0", fixture.ReadRelease().Digests.Keys);
    }
}
