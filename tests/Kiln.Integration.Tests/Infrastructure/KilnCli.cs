namespace Kiln.Integration.Tests.Infrastructure;

/// <summary>Runs the `kiln` CLI exactly as the packed Kiln.Build ships it (tools/engine/kiln.dll).</summary>
internal static class KilnCli
{
    public static ProcessResult Run(KilnPackage package, string workingDirectory, params string[] arguments)
    {
        var (engine, environment) = Engine(package);
        return ProcessRunner.Run("dotnet", ["exec", engine, .. arguments], workingDirectory, environment, TimeSpan.FromMinutes(6));
    }

    /// <summary>Runs the CLI keeping standard output and standard error apart, as a script that pipes one of them sees them.</summary>
    public static CliResult RunSeparated(KilnPackage package, string workingDirectory, IDictionary<string, string?>? extraEnvironment, params string[] arguments)
    {
        var (engine, environment) = Engine(package);
        foreach (var (key, value) in extraEnvironment ?? new Dictionary<string, string?>())
        {
            environment[key] = value;
        }

        var start = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in (string[])["exec", engine, .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(key);
            }
            else
            {
                start.Environment[key] = value;
            }
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(6)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kiln {string.Join(' ', arguments)} did not finish in time.");
        }

        process.WaitForExit();
        return new CliResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>The packed engine's kiln.dll in the test package cache.</summary>
    public static string EnginePath(KilnPackage package) => Engine(package).Engine;

    private static (string Engine, Dictionary<string, string?> Environment) Engine(KilnPackage package)
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
        return (engine, environment);
    }
}

/// <summary>A CLI run with its two streams apart.</summary>
internal sealed record CliResult(int ExitCode, string StandardOutput, string StandardError)
{
    public override string ToString() => $"exit {ExitCode}\n--- standard output:\n{StandardOutput}\n--- standard error:\n{StandardError}";
}
