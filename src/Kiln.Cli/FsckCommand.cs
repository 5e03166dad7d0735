using System.CommandLine;
using Kiln.Engine;
using Kiln.Engine.Diagnostics;
using Kiln.Oci;
using Spectre.Console;

namespace Kiln.Cli;

/// <summary>
/// <c>kiln fsck LAYOUT</c>: checks every blob an OCI image layout references (present, right size, right digest;
/// indexes and manifests parse). Exit code 0 when the layout is sound (unreferenced blobs are information only),
/// 1 when any blob is bad (KILN3042), 16 when it cannot check (KILN3043).
/// </summary>
internal static class FsckCommand
{
    public static Command Create()
    {
        var layout = new Argument<string>("layout") { Description = "The OCI image layout directory (for example bin/Release/kiln/oci)." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("fsck", "Check an OCI image layout: every referenced blob present, of the right size and digest (exit code 1 when one is bad).")
        {
            layout, json,
        };
        command.SetAction(result => Edge.Run(() => Fsck(result.GetValue(layout)!, result.GetValue(json)), Edge.BadInput));
        return command;
    }

    private static int Fsck(string path, bool json)
    {
        var result = KilnEngine.Fsck(path);
        var errors = result.Findings.Count(f => f.IsError);
        var exitCode = errors == 0 ? Edge.Ok : Edge.Failed;
        if (json)
        {
            CliJson.Write(new
            {
                layout = result.Root,
                @checked = result.Checked,
                valid = result.IsValid,
                exitCode,
                findings = result.Findings.Select(f => new
                {
                    digest = f.Digest.ToString(),
                    problem = f.Problem,
                    severity = f.IsError ? "error" : "info",
                    detail = f.Detail,
                    referencedBy = f.ReferencedBy,
                }),
            });
            return exitCode;
        }

        if (!result.Findings.IsEmpty)
        {
            var table = new Table().Border(TableBorder.Rounded).AddColumns("blob", "problem", "detail", "referenced by");
            foreach (var f in result.Findings)
            {
                var problem = f.IsError ? $"[red]{Problem(f.Problem)}[/]" : $"[grey]{Problem(f.Problem)}[/]";
                table.AddRow(Markup.Escape(f.Digest.ToString()), problem, Markup.Escape(f.Detail), Markup.Escape(f.ReferencedBy ?? "-"));
            }

            AnsiConsole.Write(table);
        }

        if (errors == 0)
        {
            AnsiConsole.MarkupLine($"[green]ok[/]: {result.Checked} referenced blob(s) of {Markup.Escape(result.Root)} verified; {result.Findings.Length} unreferenced");
            return exitCode;
        }

        Edge.Print(new KilnDiagnostic(DiagnosticCodes.LayoutCheckFailed, $"{errors} bad blob(s) in the layout '{result.Root}' ({result.Checked} referenced blob(s) checked). Rebuild the images (a Kiln build rewrites bad blobs it needs), or fetch the layout again; do not push or export it as it is."));
        return exitCode;
    }

    private static string Problem(BlobProblem problem) => problem switch
    {
        BlobProblem.WrongDigest => "wrong digest",
        BlobProblem.WrongSize => "wrong size",
        _ => problem.ToString().ToLowerInvariant(),
    };
}
