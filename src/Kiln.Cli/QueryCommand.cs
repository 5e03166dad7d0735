using System.CommandLine;
using Kiln.Engine;
using Kiln.Engine.Query;

namespace Kiln.Cli;

/// <summary><c>kiln query SETTING [release.json or manifests…]</c>: one setting across every server, from manifests alone.</summary>
internal static class QueryCommand
{
    public static Command Create()
    {
        var setting = new Argument<string>("setting") { Description = "A setting path, such as limits.openFiles, user, ports or base.digest." };
        var sources = new Argument<string[]>("sources") { Description = "release.json files or Kiln manifests (default: bin/Debug/kiln/release.json).", Arity = ArgumentArity.ZeroOrMore };
        var json = new Option<bool>("--json") { Description = "Print the rows as JSON." };
        var command = new Command("query", "Show one setting of every server of a build or of a set of releases.") { setting, sources, json };
        command.SetAction(result => Edge.Run(() =>
        {
            var given = result.GetValue(sources) ?? [];
            // The --json shape is the engine's QueryRow: name, version, imageDigest, value, source.
            var rows = KilnEngine.Query(new QueryRequest(result.GetValue(setting)!, given.Length > 0 ? [.. given] : [KilnDefaults.ReleasePath()]));
            if (result.GetValue(json))
            {
                CliJson.Write(rows);
                return Edge.Ok;
            }

            CliOutput.Table(
                ["server", "version", result.GetValue(setting)!, "digest"],
                rows.Select(row => new[] { row.Name, row.Version, row.Value ?? "-", CliOutput.Digest(row.ImageDigest) }));
            return Edge.Ok;
        }));
        return command;
    }
}
