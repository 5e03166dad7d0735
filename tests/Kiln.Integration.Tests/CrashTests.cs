using System.Diagnostics;
using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>A build killed with SIGKILL while writing blobs leaves the artifacts valid, and the next build succeeds.</summary>
[Collection(KilnCollection.Name)]
public sealed class CrashTests(KilnPackage package)
{
    [SkippableFact]
    public void Build_KilledWhileWritingBlobs_NextBuildSucceedsAndLayoutValidates()
    {
        var validator = Tools.Require("oci-image-tool", "oci-image-tool");
        var fixture = BuildTests.TwoServerFixture(package);
        fixture.BuildOk();

        // A large, poorly compressible input keeps the engine writing long enough to be killed mid-blob.
        var data = new byte[160 * 1024 * 1024];
        new Random(42).NextBytes(data);
        fixture.WriteBytes("www/big.bin", data);

        var env = new Dictionary<string, string?> { ["MSBUILDDISABLENODEREUSE"] = "1", ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0" };
        using var build = ProcessRunner.Start("dotnet", ["build", fixture.Directory, "-nologo", "-nodeReuse:false"], fixture.Directory, env, out _);
        var killed = false;
        var watch = Stopwatch.StartNew();
        while (!build.HasExited && watch.Elapsed < TimeSpan.FromMinutes(3) && !killed)
        {
            var temp = Directory.Exists(fixture.LayoutDirectory) && Directory.EnumerateFiles(fixture.LayoutDirectory, "*", SearchOption.AllDirectories).Any(f => f.Contains("tmp", StringComparison.Ordinal));
            if (temp && EngineProcess(fixture.Directory) is { } engine)
            {
                engine.Kill();
                killed = true;
            }

            Thread.Sleep(20);
        }

        build.WaitForExit();
        Assert.True(killed, "the engine was never caught writing a blob");
        Assert.NotEqual(0, build.ExitCode);

        var validate = ProcessRunner.Run(validator, ["validate", "--type", "image", fixture.LayoutDirectory]);
        Assert.True(validate.ExitCode == 0, "after the kill:\n" + validate.Output);

        fixture.BuildOk();
        var after = ProcessRunner.Run(validator, ["validate", "--type", "image", fixture.LayoutDirectory]);
        Assert.True(after.ExitCode == 0, "after the next build:\n" + after.Output);
        Assert.Contains("/srv/www/big.bin", File.ReadAllText(Path.Combine(fixture.OutputDirectory, "inventory", "fixture-api-1.2.3.txt")), StringComparison.Ordinal);
    }

    /// <summary>The `kiln.dll engine build` process working on this fixture, found through /proc.</summary>
    private static Process? EngineProcess(string fixtureDirectory)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ');
                if (commandLine.Contains("kiln.dll", StringComparison.Ordinal) && commandLine.Contains(" engine build", StringComparison.Ordinal) && commandLine.Contains(fixtureDirectory, StringComparison.Ordinal))
                {
                    return Process.GetProcessById(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                // the process ended while we looked
            }
        }

        return null;
    }
}
