using System.CommandLine;
using Kiln.Engine;
using Kiln.Engine.Attestation;
using Kiln.Engine.Diagnostics;
using Spectre.Console;

namespace Kiln.Cli;

/// <summary>
/// <c>kiln verify-image SOURCE --key PUBLIC.pem</c>: checks an image's signed provenance. Exit codes (chosen apart from
/// diff/verify's 1, 2, 4, 7 and 16): 0 verified; 20 no attestation (KILN2170); 21 bad signature or wrong key
/// (KILN2171); 22 attests another image (KILN2172); 23 not Kiln's builder (KILN2173); 24 a dependency disagrees with
/// the lock (KILN2174); 25 malformed or altered attestation (KILN2175); 26 the image does not match its digest
/// (KILN2176); 16 cannot check (unusable key, unreadable lock, registry unreachable).
/// </summary>
internal static class VerifyImageCommand
{
    /// <summary>The verdict exit codes, by diagnostic code.</summary>
    internal static readonly IReadOnlyDictionary<string, int> ExitCodes = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        [DiagnosticCodes.AttestationMissing] = 20,
        [DiagnosticCodes.AttestationSignatureInvalid] = 21,
        [DiagnosticCodes.AttestationSubjectMismatch] = 22,
        [DiagnosticCodes.AttestationBuilderMismatch] = 23,
        [DiagnosticCodes.AttestationDependencyMismatch] = 24,
        [DiagnosticCodes.AttestationMalformed] = 25,
        [DiagnosticCodes.ImageTampered] = 26,
    };

    public static Command Create()
    {
        var source = new Argument<string>("source") { Description = "An OCI layout directory (bin/Release/kiln/oci) or a registry reference (host/repo:tag or @sha256:…)." };
        var key = new Option<string>("--key") { Required = true, Description = "The ECDSA P-256 public key (PEM) the provenance must be signed with." };
        var image = new Option<string?>("--image") { Description = "In a layout with several images, the one to verify (name:version)." };
        var lockFile = new Option<string?>("--lock") { Description = "The project's kiln.lock.json: every resolved dependency must agree with it." };
        var insecure = new Option<string[]>("--insecure-registry") { Description = "A registry that may be reached over plain HTTP (loopback always may)." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("verify-image", "Verify an image's signed provenance: signature, subject digest, builder, and agreement with kiln.lock.json.")
        {
            source, key, image, lockFile, insecure, json,
        };
        command.SetAction(result => Edge.Run(
            () => Verify(new VerifyImageRequest(result.GetValue(source)!, result.GetValue(key)!, result.GetValue(image), result.GetValue(lockFile)) { Settings = RegistryEdge.Settings(result.GetValue(insecure)) }, result.GetValue(json)),
            Edge.BadInput));
        return command;
    }

    private static int Verify(VerifyImageRequest request, bool json)
    {
        VerifyImageResult verified;
        try
        {
            verified = KilnEngine.VerifyImage(request);
        }
        catch (KilnException e) when (ExitCodes.TryGetValue(e.Diagnostics[0].Code, out var exitCode))
        {
            if (json)
            {
                CliJson.Write(new { source = request.Source, verified = false, exitCode, code = e.Diagnostics[0].Code, message = e.Diagnostics[0].Message });
            }
            else
            {
                Edge.Print(e.Diagnostics[0]);
            }

            return exitCode;
        }

        if (json)
        {
            CliJson.Write(new
            {
                source = verified.Source,
                verified = true,
                exitCode = Edge.Ok,
                digest = verified.Digest.ToString(),
                name = verified.Name,
                version = verified.Version,
                builder = verified.BuilderId,
                keyId = verified.KeyId,
                dependencies = verified.Dependencies,
                checkedAgainstLock = verified.DependenciesCheckedAgainstLock,
            });
        }
        else
        {
            AnsiConsole.MarkupLine($"[green]verified[/] {Markup.Escape(verified.Name)}:{Markup.Escape(verified.Version)} {Markup.Escape(verified.Digest.ToString())}: signed by key {Markup.Escape(verified.KeyId[..16])}…, builder {Markup.Escape(verified.BuilderId)}, {verified.Dependencies} dependencies ({verified.DependenciesCheckedAgainstLock} checked against the lock)");
        }

        return Edge.Ok;
    }
}
