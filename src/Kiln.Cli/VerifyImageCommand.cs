using System.CommandLine;
using Kiln.Engine;
using Kiln.Engine.Attestation;
using Kiln.Engine.Diagnostics;
using Spectre.Console;

namespace Kiln.Cli;

/// <summary>
/// <c>kiln verify-image SOURCE --key PUBLIC.pem</c>: checks an image's signed provenance. Exit codes
/// (<see cref="ExitCodes"/>): 0 verified; 20–26 a verdict (<see cref="ExitCodes.VerifyImageVerdicts"/>: no
/// attestation, bad signature, another subject, another builder, a dependency disagreeing with the lock, a malformed
/// attestation, a tampered image); 16 cannot check (unusable key, unreadable lock, registry unreachable).
/// </summary>
internal static class VerifyImageCommand
{
    public static Command Create()
    {
        var source = new Argument<string>("source") { Description = "An OCI layout directory (bin/Release/kiln/oci) or a registry reference (host/repo:tag or @sha256:…)." };
        var key = new Option<string>("--key") { Required = true, Description = "The ECDSA P-256 public key (PEM) the provenance must be signed with." };
        var image = new Option<string?>("--image") { Description = "In a layout with several images, the one to verify (name:version)." };
        var lockFile = new Option<string?>("--lock") { Description = "The project's kiln.lock.json: every resolved dependency must agree with it." };
        var insecure = new Option<string[]>("--insecure-registry") { Description = "A registry that may be reached over plain HTTP (loopback always may)." };
        var platform = PlatformEdge.Option();
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("verify-image", "Verify an image's signed provenance: signature, subject digest, builder, and agreement with kiln.lock.json.")
        {
            source, key, image, lockFile, insecure, platform, json,
        };
        command.SetAction(result => Edge.Run(
            () => Verify(
                new VerifyImageRequest(result.GetValue(source)!, result.GetValue(key)!, result.GetValue(image), result.GetValue(lockFile))
                {
                    Settings = RegistryEdge.Settings(result.GetValue(insecure)),
                    Platform = PlatformEdge.Parse(result.GetValue(platform)),
                },
                result.GetValue(json))));
        return command;
    }

    private static int Verify(VerifyImageRequest request, bool json)
    {
        VerifyImageResult verified;
        try
        {
            verified = KilnEngine.VerifyImage(request);
        }
        catch (KilnException e) when (ExitCodes.VerifyImageVerdicts.TryGetValue(e.Diagnostics[0].Code, out var exitCode))
        {
            if (json)
            {
                CliJson.Write(new VerifyImageOutput(request.Source, false, exitCode, e.Diagnostics[0].Code, e.Diagnostics[0].Message, null, null, null, null, null, null, null));
            }

            // The verdict's diagnostic goes to standard error with or without --json: a log keeps why it failed.
            Edge.Print(e.Diagnostics[0]);
            return exitCode;
        }

        if (json)
        {
            CliJson.Write(new VerifyImageOutput(
                verified.Source,
                true,
                ExitCodes.Ok,
                null,
                null,
                verified.Digest.ToString(),
                verified.Name,
                verified.Version,
                verified.BuilderId,
                verified.KeyId,
                verified.Dependencies,
                verified.DependenciesCheckedAgainstLock));
        }
        else
        {
            var detail = $"{verified.Name}:{verified.Version} {verified.Digest}: signed by key {(CliOutput.IsTerminal ? verified.KeyId[..16] + "…" : verified.KeyId)}, builder {verified.BuilderId}, {verified.Dependencies} dependencies ({verified.DependenciesCheckedAgainstLock} checked against the lock)";
            CliOutput.Line($"[green]verified[/] {Markup.Escape(detail)}", $"verified {detail}");
        }

        return Edge.Ok;
    }

    /// <summary>
    /// The --json shape of <c>kiln verify-image</c>: on a verdict, <paramref name="Code"/> and <paramref name="Message"/>
    /// say why (the rest null); when verified, the image and its provenance (code and message null).
    /// </summary>
    internal sealed record VerifyImageOutput(
        string Source,
        bool Verified,
        int ExitCode,
        string? Code,
        string? Message,
        string? Digest,
        string? Name,
        string? Version,
        string? Builder,
        string? KeyId,
        int? Dependencies,
        int? CheckedAgainstLock);
}
