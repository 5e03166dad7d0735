using System.CommandLine;
using Kiln.Engine;
using Kiln.Engine.Diff;
using Spectre.Console;

namespace Kiln.Cli;

/// <summary>
/// <c>kiln diff A B</c>: what changed between two versions (Kiln manifests, release.json files, or name:version in a
/// build's artifact directory). Exit code 0: nothing differs, 1: something does, 16: bad input.
/// </summary>
internal static class DiffCommand
{
    public static Command Create()
    {
        var before = new Argument<string>("before") { Description = "A Kiln manifest, a release.json, or name:version." };
        var after = new Argument<string>("after") { Description = "A Kiln manifest, a release.json, or name:version." };
        var artifacts = new Option<string>("--artifacts") { Description = "Where name:version is looked up: a build's kiln/ directory or its oci/ layout.", DefaultValueFactory = _ => KilnDefaults.OutputDirectory() };
        var json = new Option<bool>("--json") { Description = "Print the differences as JSON." };
        var command = new Command("diff", "Show the setting, package and file changes between two versions (exit code 1 when they differ).")
        {
            before, after, artifacts, json,
        };
        command.SetAction(result => Edge.Run(
            () => Diff(new DiffRequest(result.GetValue(before)!, result.GetValue(after)!, result.GetValue(artifacts)), result.GetValue(json)),
            Edge.BadInput));
        return command;
    }

    private static int Diff(DiffRequest request, bool json)
    {
        var result = KilnEngine.Diff(request);
        var code = result.HasDifferences ? 1 : 0;
        if (json)
        {
            CliJson.Write(new
            {
                images = result.Pairs.Select(p => new { server = p.Server, before = p.BeforeReference, beforeDigest = p.BeforeDigest, after = p.AfterReference, afterDigest = p.AfterDigest }),
                servers = result.Servers,
                settings = result.Settings,
                packages = result.Packages,
                files = result.Files,
                differs = result.HasDifferences,
            });
            return code;
        }

        foreach (var p in result.Pairs)
        {
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(p.Server)}[/]: {Markup.Escape(p.BeforeReference ?? "-")} → {Markup.Escape(p.AfterReference ?? "-")}");
        }

        if (!result.HasDifferences)
        {
            AnsiConsole.MarkupLine("[green]no differences[/]");
            return code;
        }

        var table = new Table().Border(TableBorder.Rounded).AddColumns("server", "kind", "what", "change", "before", "after");
        foreach (var s in result.Servers)
        {
            table.AddRow(Markup.Escape(s.Server), "server", Markup.Escape(s.Server), s.Change, Markup.Escape(s.Before ?? "-"), Markup.Escape(s.After ?? "-"));
        }

        foreach (var s in result.Settings)
        {
            table.AddRow(Markup.Escape(s.Server), "setting", Markup.Escape(s.Setting), s.Before is null ? "added" : s.After is null ? "removed" : "changed", Markup.Escape(s.Before ?? "-"), Markup.Escape(s.After ?? "-"));
        }

        foreach (var p in result.Packages)
        {
            table.AddRow(Markup.Escape(p.Server), "package", Markup.Escape(p.Package), p.Change, Markup.Escape(p.Before ?? "-"), Markup.Escape(p.After ?? "-"));
        }

        foreach (var f in result.Files)
        {
            table.AddRow(Markup.Escape(f.Server), "file", Markup.Escape(f.Path), f.What.IsEmpty ? f.Change : $"{f.Change} ({string.Join(", ", f.What)})", "", "");
        }

        AnsiConsole.Write(table);
        return code;
    }
}
