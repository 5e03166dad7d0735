using System.Collections.Immutable;
using System.CommandLine;
using Kiln.Engine;
using Kiln.Engine.Diff;

namespace Kiln.Cli;

/// <summary>
/// <c>kiln diff A B</c>: what changed between two versions (Kiln manifests, release.json files, or name:version in a
/// build's artifact directory). Exit code 0: nothing differs, 1: something does, 16: could not compare (docs/cli.md).
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
            () => Diff(new DiffRequest(result.GetValue(before)!, result.GetValue(after)!, result.GetValue(artifacts)), result.GetValue(json))));
        return command;
    }

    private static int Diff(DiffRequest request, bool json)
    {
        var result = KilnEngine.Diff(request);
        var code = result.HasDifferences ? ExitCodes.DiffDiffers : ExitCodes.Ok;
        if (json)
        {
            CliJson.Write(new DiffOutput(
                [.. result.Pairs.Select(p => new DiffImage(p.Server, p.BeforeReference, p.BeforeDigest, p.AfterReference, p.AfterDigest))],
                result.Servers,
                result.Settings,
                result.Packages,
                result.Files,
                result.HasDifferences,
                code));
            return code;
        }

        foreach (var p in result.Pairs)
        {
            CliOutput.Line($"{p.Server}: {p.BeforeReference ?? "-"} -> {p.AfterReference ?? "-"}");
        }

        if (!result.HasDifferences)
        {
            CliOutput.Line("[green]no differences[/]", "no differences");
            return code;
        }

        var rows = new List<string[]>();
        rows.AddRange(result.Servers.Select(s => new[] { s.Server, "server", s.Server, s.Change, s.Before ?? "-", s.After ?? "-" }));
        rows.AddRange(result.Settings.Select(s => new[] { s.Server, "setting", s.Setting, s.Before is null ? "added" : s.After is null ? "removed" : "changed", s.Before ?? "-", s.After ?? "-" }));
        rows.AddRange(result.Packages.Select(p => new[] { p.Server, "package", p.Package, p.Change, p.Before ?? "-", p.After ?? "-" }));
        rows.AddRange(result.Files.Select(f => new[] { f.Server, "file", f.Path, f.What.IsEmpty ? f.Change : $"{f.Change} ({string.Join(", ", f.What)})", "-", "-" }));
        CliOutput.Table(["server", "kind", "what", "change", "before", "after"], rows);
        return code;
    }

    /// <summary>The --json shape of <c>kiln diff</c>.</summary>
    internal sealed record DiffOutput(
        ImmutableArray<DiffImage> Images,
        ImmutableArray<ServerChange> Servers,
        ImmutableArray<SettingChange> Settings,
        ImmutableArray<PackageChange> Packages,
        ImmutableArray<FileChange> Files,
        bool Differs,
        int ExitCode);

    /// <summary>One server's two sides.</summary>
    internal sealed record DiffImage(string Server, string? Before, string? BeforeDigest, string? After, string? AfterDigest);
}
