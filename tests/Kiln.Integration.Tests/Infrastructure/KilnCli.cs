namespace Kiln.Integration.Tests.Infrastructure;

/// <summary>Runs the `kiln` CLI exactly as the packed Kiln.Build ships it (tools/engine/kiln.dll).</summary>
internal static class KilnCli
{
    public static ProcessResult Run(KilnPackage package, string workingDirectory, params string[] arguments)
    {
        // Child builds (kiln lock --update) must restore from the test's own package cache, never the machine's.
        var environment = new Dictionary<string, string?>
        {
            ["NUGET_PACKAGES"] = package.Packages,
            ["MSBUILDDISABLENODEREUSE"] = "1",
            ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0",
            ["SOURCE_DATE_EPOCH"] = null,
            ["COLUMNS"] = "240",
        };
        var engine = Directory.EnumerateFiles(Path.Combine(package.Packages, "kiln.build"), "kiln.dll", SearchOption.AllDirectories)
            .FirstOrDefault(f => f.Replace('\\', '/').Contains("/tools/engine/", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("The packed engine (tools/engine/kiln.dll) is not in the package cache: build a fixture first.");
        return ProcessRunner.Run("dotnet", ["exec", engine, .. arguments], workingDirectory, environment, TimeSpan.FromMinutes(6));
    }
}
