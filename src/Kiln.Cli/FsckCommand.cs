using System.Collections.Immutable;
using System.CommandLine;
using Kiln.Engine;
using Kiln.Engine.Diagnostics;
using Kiln.Oci;

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
        command.SetAction(result => Edge.Run(() => Fsck(result.GetValue(layout)!, result.GetValue(json))));
        return command;
    }

    private static int Fsck(string path, bool json)
    {
        var result = KilnEngine.Fsck(path);
        var errors = result.Findings.Count(f => f.IsError);
        var exitCode = errors == 0 ? ExitCodes.Ok : ExitCodes.LayoutDamaged;
        if (json)
        {
            CliJson.Write(new FsckOutput(
                result.Root,
                result.Checked,
                result.IsValid,
                exitCode,
                [.. result.Findings.Select(f => new FsckFinding(f.Digest.ToString(), f.Problem, f.IsError ? "error" : "info", f.Detail, f.ReferencedBy))]));
            return exitCode;
        }

        if (!result.Findings.IsEmpty)
        {
            CliOutput.Table(
                ["blob", "problem", "detail", "referenced by"],
                result.Findings.Select(f => new[] { f.Digest.ToString(), Problem(f.Problem), f.Detail, f.ReferencedBy ?? "-" }));
        }

        if (errors == 0)
        {
            var detail = $"{result.Checked} referenced blob(s) of {result.Root} verified; {result.Findings.Length} unreferenced";
            CliOutput.Line($"[green]ok[/]: {Spectre.Console.Markup.Escape(detail)}", $"ok: {detail}");
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

    /// <summary>The --json shape of <c>kiln fsck</c>.</summary>
    internal sealed record FsckOutput(string Layout, int Checked, bool Valid, int ExitCode, ImmutableArray<FsckFinding> Findings);

    /// <summary>One bad or unreferenced blob; <paramref name="Problem"/> in camelCase (missing, wrongSize, wrongDigest, unreferenced…), <paramref name="Severity"/> <c>error</c> or <c>info</c>.</summary>
    internal sealed record FsckFinding(string Digest, BlobProblem Problem, string Severity, string Detail, string? ReferencedBy);
}
