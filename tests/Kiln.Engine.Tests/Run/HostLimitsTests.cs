using Kiln.Engine.Diagnostics;
using Kiln.Engine.Run;

namespace Kiln.Engine.Tests.Run;

/// <summary>
/// A spec's rlimits above the machine's hard limits are refused before runc is started (runc's own message names no
/// limit and no fix), or lowered with a warning when the user asks for it.
/// </summary>
public sealed class HostLimitsTests
{
    // The text of /proc/self/limits on a machine whose hard open-files limit is 20000.
    private const string ProcSelfLimits = """
        Limit                     Soft Limit           Hard Limit           Units
        Max cpu time              unlimited            unlimited            seconds
        Max processes             96364                96364                processes
        Max open files            1024                 20000                files
        Max locked memory         8388608              8388608              bytes

        """;

    private static RunSpec Spec(int? openFiles, int? processes = null) => new()
    {
        Reference = "shop-api:1.0.0",
        Name = "shop-api",
        Uid = 10001,
        Gid = 10001,
        Args = ["/app/Shop.Api"],
        Environment = [],
        WorkingDirectory = "/app",
        OpenFiles = openFiles,
        Processes = processes,
        Volumes = [],
    };

    [Fact]
    public void Parse_ProcSelfLimits_ReadsTheHardColumn()
    {
        var limits = HostLimits.Parse(ProcSelfLimits);

        Assert.Equal(20000, limits.OpenFiles);
        Assert.Equal(96364, limits.Processes);
    }

    [Fact]
    public void Parse_Unlimited_IsNoLimit()
    {
        var limits = HostLimits.Parse("Max open files            unlimited            unlimited            files\n");

        Assert.Null(limits.OpenFiles);
        Assert.Null(limits.Processes);
    }

    [Fact]
    public void Fit_OpenFilesAboveHardLimit_ThrowsKiln5032NamingLimitValuesAndTheOption()
    {
        var error = Assert.Throws<KilnException>(() => HostLimits.Parse(ProcSelfLimits).Fit(Spec(65536), clamp: false, _ => Assert.Fail("no warning without --clamp-rlimits")));

        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.Equal(DiagnosticCodes.RlimitAboveHardLimit, diagnostic.Code);
        Assert.Contains("RLIMIT_NOFILE", diagnostic.Message, StringComparison.Ordinal);
        Assert.Contains("65536", diagnostic.Message, StringComparison.Ordinal);
        Assert.Contains("20000", diagnostic.Message, StringComparison.Ordinal);
        Assert.Contains("--clamp-rlimits", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_ClampAboveHardLimit_LowersToTheHardLimitWithAWarning()
    {
        var warnings = new List<KilnDiagnostic>();

        var fitted = HostLimits.Parse(ProcSelfLimits).Fit(Spec(65536, processes: 200_000), clamp: true, warnings.Add);

        Assert.Equal(20000, fitted.OpenFiles);
        Assert.Equal(96364, fitted.Processes);
        Assert.Equal(2, warnings.Count);
        Assert.All(warnings, w => Assert.True(w.IsWarning && w.Code == DiagnosticCodes.RlimitAboveHardLimit));
    }

    [Fact]
    public void Fit_WithinLimits_ReturnsTheSpecUnchanged()
    {
        var spec = Spec(4096, processes: 321);

        var fitted = HostLimits.Parse(ProcSelfLimits).Fit(spec, clamp: false, _ => Assert.Fail("no warning"));

        Assert.Same(spec, fitted);
    }

    [Fact]
    public void Fit_NoDeclaredOpenFiles_ChecksRuncsDefault()
    {
        var error = Assert.Throws<KilnException>(() => new HostLimits(512, null).Fit(Spec(null), clamp: false, _ => { }));

        Assert.Contains("1024", error.Diagnostics[0].Message, StringComparison.Ordinal);
    }
}
