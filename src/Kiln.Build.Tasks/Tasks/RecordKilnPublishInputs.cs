using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Kiln.Build.Tasks;

/// <summary>
/// Records, after a publish, what the published project's output depends on, so that the next build can tell that
/// nothing changed without evaluating the project or running its Publish target: the directory tree of the project
/// and of every project it references (transitively, from its restore graph in <c>obj/project.assets.json</c>),
/// without their <c>bin/</c> and <c>obj/</c>; each one's <c>project.assets.json</c>; and the MSBuild and NuGet files
/// imported from the directories above them (Directory.Build.props/targets, Directory.Packages.props, global.json,
/// NuGet.config). Trees are recorded as wildcards, so an added or deleted file is seen too.
/// </summary>
/// <remarks>
/// Writes <c>&lt;state&gt;.trees</c> (wildcards, read with <c>&lt;state&gt;.excludes</c>) and <c>&lt;state&gt;.files</c>,
/// each a <c>;</c>-separated MSBuild item list, where <c>&lt;state&gt;</c> is the item's <c>KilnPublishState</c>.
/// A source file compiled from outside every project directory (<c>Compile Include="../Shared/*.cs"</c>) is not
/// seen; docs/msbuild.md says so.
/// </remarks>
public sealed class RecordKilnPublishInputs : Task
{
    private static readonly string[] ImportedFiles =
    [
        "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", "Directory.Solution.props",
        "Directory.Solution.targets", "global.json", "NuGet.config", "nuget.config", "NuGet.Config",
    ];

    private static readonly Regex ProjectReference = new("\"msbuildProject\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"", RegexOptions.CultureInvariant);

    /// <summary>The published projects, each with the metadata <c>KilnPublishState</c> (the path prefix of its state files).</summary>
    [Required]
    public ITaskItem[] Projects { get; set; } = [];

    /// <inheritdoc />
    public override bool Execute()
    {
        foreach (var item in Projects)
        {
            var state = item.GetMetadata("KilnPublishState");
            var project = Path.GetFullPath(item.ItemSpec);
            try
            {
                Record(project, state);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Without a record the next build publishes again: slower, never wrong.
                Log.LogMessage(MessageImportance.Normal, "Kiln: could not record the inputs of '{0}' ({1}); its next build publishes it again.", project, e.Message);
                Forget(state);
            }
        }

        return !Log.HasLoggedErrors;
    }

    /// <summary>Forgets what a publish read, so that the next build runs it again.</summary>
    private static void Forget(string state)
    {
        try
        {
            File.Delete(state + ".trees");
            File.Delete(state + ".expanded"); // a missing input: MSBuild's up-to-date check runs the publish
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The stamp is then also left as it was; the next successful publish rewrites both.
        }
    }

    private static void Record(string project, string state)
    {
        var projects = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>();
        pending.Push(project);
        while (pending.Count > 0)
        {
            var next = pending.Pop();
            if (!projects.Add(next))
            {
                continue;
            }

            // The restore graph of the app already lists every project it references transitively; reading each
            // referenced project's own graph as well covers a reference restored apart from the app.
            var assets = Path.Combine(Path.GetDirectoryName(next)!, "obj", "project.assets.json");
            if (File.Exists(assets))
            {
                foreach (Match match in ProjectReference.Matches(File.ReadAllText(assets)))
                {
                    var relative = Regex.Unescape(match.Groups[1].Value);
                    pending.Push(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(next)!, relative)));
                }
            }
        }

        var trees = new SortedSet<string>(StringComparer.Ordinal);
        var excludes = new SortedSet<string>(StringComparer.Ordinal);
        var files = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var p in projects)
        {
            var directory = Path.GetDirectoryName(p)!;
            trees.Add(Path.Combine(directory, "**"));
            excludes.Add(Path.Combine(directory, "**", "bin", "**"));
            excludes.Add(Path.Combine(directory, "**", "obj", "**"));
            files.Add(p);
            if (File.Exists(Path.Combine(directory, "obj", "project.assets.json")))
            {
                files.Add(Path.Combine(directory, "obj", "project.assets.json"));
            }

            for (var up = directory; up is not null; up = Path.GetDirectoryName(up))
            {
                foreach (var name in ImportedFiles)
                {
                    var candidate = Path.Combine(up, name);
                    if (File.Exists(candidate))
                    {
                        files.Add(candidate);
                    }
                }
            }
        }

        Directory.CreateDirectory(Path.GetDirectoryName(state)!);
        File.WriteAllText(state + ".excludes", string.Join(";", excludes));
        File.WriteAllText(state + ".files", string.Join(";", files));
        File.WriteAllText(state + ".trees", string.Join(";", trees));
    }
}
