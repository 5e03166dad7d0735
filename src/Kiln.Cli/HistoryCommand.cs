using System.CommandLine;
using Kiln.Engine;
using Kiln.Engine.Diff;

namespace Kiln.Cli;

/// <summary><c>kiln history NAME</c>: every locked version of a server, its digest, its parent and what changed.</summary>
internal static class HistoryCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "The server name." };
        var project = new Option<string>("--project") { Description = "The spec project's directory (holding kiln.lock.json).", DefaultValueFactory = _ => "." };
        var manifests = new Option<string[]>("--manifests") { Description = "More directories with Kiln manifests of earlier builds (archived releases).", AllowMultipleArgumentsPerToken = true };
        var json = new Option<bool>("--json") { Description = "Print the history as JSON." };
        var command = new Command("history", "Show every version of a server from the lock and the manifests: digest, parent, what changed.") { name, project, manifests, json };
        command.SetAction(result => Edge.Run(() =>
        {
            var directory = Path.GetFullPath(result.GetValue(project)!);
            string[] searched = [Path.Combine(directory, "bin"), .. result.GetValue(manifests) ?? []];
            // The --json shape is the engine's VersionHistoryEntry: version, digest, parent, changes, reason.
            var entries = KilnEngine.History(new HistoryRequest(result.GetValue(name)!, Path.Combine(directory, "kiln.lock.json"), [.. searched]));
            if (result.GetValue(json))
            {
                CliJson.Write(entries);
                return Edge.Ok;
            }

            CliOutput.Table(
                ["version", "digest", "parent", "what changed", "why"],
                entries.Select(e => new[] { e.Version, e.Digest, e.Parent ?? "-", e.Changes ?? "(manifests not at hand: pass --manifests)", e.Reason?.Describe() ?? "-" }));
            return Edge.Ok;
        }));
        return command;
    }
}
