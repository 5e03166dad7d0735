using System.Collections.Immutable;
using System.CommandLine;
using Kiln.Engine;
using Kiln.Engine.Drift;

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
        var platform = new Option<string?>("--platform") { Description = "The instance's platform (os/arch), to pick its image's manifest out of a release.json. Default: this machine's." };
        var command = new Command("verify", "Compare an instance's root file system with its image: added, removed and changed files (exit code 1|2|4, bitwise).")
        {
            manifest, root, inventory, threads, json, platform,
        };
        command.SetAction(result => Edge.Run(
            () => Verify(new VerifyRequest(result.GetValue(manifest)!, result.GetValue(root)!, result.GetValue(inventory), result.GetValue(threads)) { Platform = result.GetValue(platform) ?? HostPlatform() }, result.GetValue(json))));
        return command;
    }

    /// <summary>This machine's platform as OCI writes it (linux/amd64, linux/arm64): the edge reads it, the engine is told.</summary>
    private static string HostPlatform() => System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.Arm64 => "linux/arm64",
        System.Runtime.InteropServices.Architecture.X64 => "linux/amd64",
        var other => "linux/" + other.ToString().ToLowerInvariant(),
    };

    private static int Verify(VerifyRequest request, bool json)
    {
        var result = KilnEngine.Verify(request);
        if (json)
        {
            CliJson.Write(new VerifyOutput($"{result.Name}:{result.Version}", result.ImageDigest, result.Root, result.Checked, result.Ignored, result.ExitCode, result.Drift));
            return result.ExitCode;
        }

        var image = $"{result.Name}:{result.Version}";
        if (result.Drift.IsEmpty)
        {
            var detail = $"{result.Checked} paths of {result.Root} match {image} ({CliOutput.Digest(result.ImageDigest)})";
            CliOutput.Line($"[green]no drift[/]: {Spectre.Console.Markup.Escape(detail)}", $"no drift: {detail}");
            return result.ExitCode;
        }

        CliOutput.Table(
            ["path", "drift", "what", "image", "instance"],
            result.Drift.Select(d => new[] { d.Path, d.Kind.ToString().ToLowerInvariant(), string.Join(", ", d.Changes), d.Expected ?? "-", d.Actual ?? "-" }));
        CliOutput.Line($"{result.Drift.Length} path(s) drifted from {image}: {result.Drift.Count(d => d.Kind == DriftKind.Added)} added, {result.Drift.Count(d => d.Kind == DriftKind.Removed)} removed, {result.Drift.Count(d => d.Kind == DriftKind.Changed)} changed (exit code {result.ExitCode})");
        return result.ExitCode;
    }

    /// <summary>The --json shape of <c>kiln verify</c>.</summary>
    internal sealed record VerifyOutput(string Image, string Digest, string Root, int Checked, ImmutableArray<string> Ignored, int ExitCode, ImmutableArray<FileDrift> Drift);
}
