using System.Diagnostics;

namespace Kiln.Cli;

/// <summary>
/// The source revision and whether the working tree was dirty, asked of git by the engine process (an edge) so that
/// the engine's core never runs tools or reads the environment, and a no-op MSBuild build (which does not start the
/// engine) pays nothing for it. Outside a git work tree, or without git, both are unknown (null).
/// </summary>
internal static class SourceState
{
    public static string? Revision(string directory) => Git(directory, "rev-parse", "HEAD")?.Trim() is { Length: 40 } sha ? sha : null;

    public static bool? IsDirty(string directory) => Git(directory, "status", "--porcelain") is { } status ? status.Length > 0 : null;

    private static string? Git(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = directory };
        start.ArgumentList.Add("-C");
        start.ArgumentList.Add(directory);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // git is not installed: provenance stays unknown
        }
    }
}
