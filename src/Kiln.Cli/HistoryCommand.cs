using System.CommandLine;
using Kiln.Engine;
using Kiln.Engine.Diff;
using Spectre.Console;

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
            var entries = KilnEngine.History(new HistoryRequest(result.GetValue(name)!, Path.Combine(directory, "kiln.lock.json"), [.. searched]));
            if (result.GetValue(json))
            {
                CliJson.Write(entries);
                return Edge.Ok;
            }

            var table = new Table().Border(TableBorder.Rounded).AddColumns("version", "digest", "parent", "what changed", "why");
            foreach (var e in entries)
            {
                table.AddRow(Markup.Escape(e.Version), e.Digest, Markup.Escape(e.Parent ?? "-"), Markup.Escape(e.Changes ?? "(manifests not at hand: pass --manifests)"), Markup.Escape(e.Reason?.Describe() ?? "-"));
            }

            AnsiConsole.Write(table);
            return Edge.Ok;
        }));
        return command;
    }
}
