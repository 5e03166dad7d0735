using System.Diagnostics;

namespace Kiln.Cli;

/// <summary>
/// The source revision and whether the working tree was dirty, asked of git by the engine process (an edge) so that
/// the engine's core never runs tools or reads the environment, and a no-op MSBuild build (which does not start the
/// engine) pays nothing for it. Outside a git work tree, or without git, both are unknown (null).
/// </summary>
/// <remarks>
/// One <c>git status --porcelain=v2 --branch</c> answers both: its <c># branch.oid</c> header is HEAD's commit (or
/// <c>(initial)</c> before the first commit, when <c>rev-parse HEAD</c> fails too), and every line that is not a
/// <c>#</c> header is an entry <c>status --porcelain</c> would list (changed, unmerged or untracked). The engine
/// process starts the question before it builds its command line (<see cref="Prefetch"/>), so git runs while .NET
/// is still starting up instead of after it.
/// </remarks>
internal sealed record SourceState(string? Revision, bool? IsDirty)
{
    private static readonly SourceState Unknown = new(null, null);
    private static (string Directory, Task<SourceState> Answer)? _prefetched;

    /// <summary>
    /// Starts asking git about the project directory an <c>engine</c> command line names (<c>--project-dir DIR</c>),
    /// unless the command line already carries both answers. A line this cheap look cannot read is asked later by
    /// <see cref="Of"/>, after parsing.
    /// </summary>
    public static void Prefetch(string[] args)
    {
        var directory = ValueOf(args, "--project-dir");
        if (directory is null || (ValueOf(args, "--source-revision") is { Length: > 0 } && bool.TryParse(ValueOf(args, "--source-tree-dirty"), out _)))
        {
            return;
        }

        _prefetched = (directory, Task.Run(() => Ask(directory)));
    }

    /// <summary>The state of the work tree holding <paramref name="directory"/>: the prefetched answer when it was asked about the same directory.</summary>
    public static SourceState Of(string directory) =>
        _prefetched is { } prefetched && prefetched.Directory == directory ? prefetched.Answer.GetAwaiter().GetResult() : Ask(directory);

    private static string? ValueOf(string[] args, string option)
    {
        var at = Array.IndexOf(args, option);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    private static SourceState Ask(string directory)
    {
        if (Git(directory, "status", "--porcelain=v2", "--branch") is not { } status)
        {
            return Unknown;
        }

        string? revision = null;
        var dirty = false;
        foreach (var line in status.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# branch.oid ", StringComparison.Ordinal))
            {
                revision = line["# branch.oid ".Length..].Trim() is { Length: 40 } sha ? sha : null;
            }
            else if (!line.StartsWith('#'))
            {
                dirty = true;
            }
        }

        return new SourceState(revision, dirty);
    }

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
            var error = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd();
            error.GetAwaiter().GetResult();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // git is not installed: provenance stays unknown
        }
    }
}
