using System.CommandLine;
using Kiln.Engine;
using Kiln.Engine.Drift;
using Spectre.Console;

namespace Kiln.Cli;

/// <summary>
/// <c>kiln verify --manifest M --root DIR</c>: does a running (or unpacked) instance still match its image? Exit code
/// as AIDE's, bitwise: 1 added, 2 removed, 4 changed; 16 when it cannot check (bad manifest, inventory or root).
/// </summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var manifest = new Option<string>("--manifest", "-m") { Required = true, Description = "The image's Kiln manifest (manifests/<name>-<version>.json)." };
        var root = new Option<string>("--root", "-r") { Required = true, Description = "The instance's root file system." };
        var inventory = new Option<string?>("--inventory") { Description = "The inventory, when it is not in ../inventory/ beside the manifest." };
        var threads = new Option<int>("--threads") { Description = "Files hashed in parallel (default: one per core)." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("verify", "Compare an instance's root file system with its image: added, removed and changed files (exit code 1|2|4, bitwise).")
        {
            manifest, root, inventory, threads, json,
        };
        command.SetAction(result => Edge.Run(
            () => Verify(new VerifyRequest(result.GetValue(manifest)!, result.GetValue(root)!, result.GetValue(inventory), result.GetValue(threads)), result.GetValue(json)),
            Edge.BadInput));
        return command;
    }

    private static int Verify(VerifyRequest request, bool json)
    {
        var result = KilnEngine.Verify(request);
        if (json)
        {
            CliJson.Write(new
            {
                image = $"{result.Name}:{result.Version}",
                digest = result.ImageDigest,
                root = result.Root,
                @checked = result.Checked,
                ignored = result.Ignored,
                exitCode = result.ExitCode,
                drift = result.Drift,
            });
            return result.ExitCode;
        }

        if (result.Drift.IsEmpty)
        {
            AnsiConsole.MarkupLine($"[green]no drift[/]: {result.Checked} paths of {Markup.Escape(result.Root)} match {Markup.Escape(result.Name)}:{Markup.Escape(result.Version)} ({result.ImageDigest[..19]}…)");
            return result.ExitCode;
        }

        var table = new Table().Border(TableBorder.Rounded).AddColumns("path", "drift", "what", "image", "instance");
        foreach (var d in result.Drift)
        {
            var color = d.Kind switch { DriftKind.Added => "yellow", DriftKind.Removed => "red", _ => "blue" };
            table.AddRow(Markup.Escape(d.Path), $"[{color}]{d.Kind.ToString().ToLowerInvariant()}[/]", Markup.Escape(string.Join(", ", d.Changes)), Markup.Escape(d.Expected ?? "-"), Markup.Escape(d.Actual ?? "-"));
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"{result.Drift.Length} path(s) drifted from {Markup.Escape(result.Name)}:{Markup.Escape(result.Version)}: {result.Drift.Count(d => d.Kind == DriftKind.Added)} added, {result.Drift.Count(d => d.Kind == DriftKind.Removed)} removed, {result.Drift.Count(d => d.Kind == DriftKind.Changed)} changed (exit code {result.ExitCode})");
        return result.ExitCode;
    }
}
