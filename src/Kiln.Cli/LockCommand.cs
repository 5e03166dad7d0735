using System.Collections.Immutable;
using System.CommandLine;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Lock;
using Kiln.Engine.Packages;

namespace Kiln.Cli;

/// <summary>
/// <c>kiln lock --update [PROJECT]</c>: the explicit act of accepting new content under a locked version (and
/// re-resolving pinned package sets). It runs the project's build with KilnUpdateLock=true, so that the lock is
/// written by the same build that produced the digests it records.
/// </summary>
internal static class LockCommand
{
    public static Command Create()
    {
        var project = new Argument<string>("project") { Description = "The spec project (directory or .csproj).", Arity = ArgumentArity.ZeroOrOne, DefaultValueFactory = _ => "." };
        var update = new Option<bool>("--update") { Description = "Accept the content this build produces for every version, and re-resolve pinned inputs." };
        var configuration = new Option<string>("--configuration", "-c") { DefaultValueFactory = _ => "Release", Description = "The configuration whose images the lock records (KilnLockConfiguration; Release by default)." };
        var securityOnly = new Option<bool>("--security-only") { Description = "Take only the package updates of the security suite into the locked package sets; no image digest is accepted under an old version." };
        var message = new Option<string?>("--message", "-m") { Description = "Why (an advisory id, a ticket): recorded with the package changes in the lineage of the next version of each affected server." };
        var json = new Option<bool>("--json") { Description = "Print the lock file updated (and, with --security-only, the package changes taken into it) as JSON." };
        var command = new Command("lock", "Update kiln.lock.json explicitly: 'kiln lock --update' accepts changed content under a version; 'kiln lock --update --security-only' takes security fixes into the package sets.") { project, update, configuration, securityOnly, message, json };
        foreach (var option in OutdatedCommand.MirrorOptions)
        {
            command.Options.Add(option);
        }

        command.SetAction(result => Edge.Run(() =>
        {
            if (!result.GetValue(update))
            {
                throw new KilnException(DiagnosticCodes.InvalidLockMode, "'kiln lock' changes the lock only when asked: run 'kiln lock --update' to accept the content this build produces under its versions. To see the lock, use 'kiln history NAME'.");
            }

            if (result.GetValue(securityOnly))
            {
                return SecurityUpdate(result, Path.GetFullPath(result.GetValue(project)!), result.GetValue(message), result.GetValue(json));
            }

            var path = BuildCommand.ProjectPath(result.GetValue(project)!);
            if (BuildCommand.Dotnet(["build", path, "-c", result.GetValue(configuration)!, "-p:KilnUpdateLock=true", "-p:KilnLockMode=Update", "-nologo"]) != 0)
            {
                return ExitCodes.Failed; // MSBuild printed the coded errors on standard error
            }

            if (result.GetValue(json))
            {
                CliJson.Write(new LockOutput(Path.Combine(File.Exists(path) ? Path.GetDirectoryName(path)! : path, KilnLock.FileName), true, []));
            }

            return Edge.Ok;
        }));
        return command;
    }

    /// <summary>
    /// Takes the security suite's newer versions into every locked package set (index only: the build that follows
    /// produces the new images, and in Enforce mode names every server whose version must be bumped).
    /// </summary>
    private static int SecurityUpdate(ParseResult result, string project, string? message, bool json)
    {
        var directory = BuildCommand.ProjectDirectory(project);
        var lockPath = Path.Combine(directory, KilnLock.FileName);
        var lockFile = KilnLock.Load(lockPath);
        using var http = new HttpClient();
        var (updated, changes) = PackageUpdates.Apply(OutdatedCommand.PackageOptions(result), http, lockFile, securityOnly: true, message);
        if (json)
        {
            CliJson.Write(new LockOutput(lockPath, !changes.IsEmpty, [.. changes.Select(c => new LockChange(c.BaseKey, c.Name, c.OldVersion, c.NewVersion, c.Suite, c.Security) { Architecture = c.Architecture })]));
        }

        if (changes.IsEmpty)
        {
            Edge.Status($"No security update for the {lockFile.PackageBases.Count} locked package base(s); {lockPath} is unchanged.");
            return Edge.Ok;
        }

        updated.Save(lockPath);
        foreach (var change in changes)
        {
            if (!json)
            {
                CliOutput.Line($"{change}");
            }
        }

        Edge.Status($"{changes.Length} package(s) updated in {lockPath}. Build now: every server on an updated base gets a new image, which a locked version refuses (KILN5002 in Enforce mode names each); give each a new version with 'kiln bump <spec>' and build again.");
        return Edge.Ok;
    }

    /// <summary>The --json shape of <c>kiln lock --update --security-only</c>.</summary>
    internal sealed record LockOutput(string LockFile, bool Updated, ImmutableArray<LockChange> Changes);

    /// <summary>One package version taken into a locked package set.</summary>
    internal sealed record LockChange(string Base, string Name, string? Locked, string? Updated, string? Suite, bool Security)
    {
        /// <summary>The Debian architecture of the package set the change was taken into.</summary>
        public string Architecture { get; init; } = "";
    }
}
