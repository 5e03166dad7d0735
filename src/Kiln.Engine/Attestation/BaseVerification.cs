using Kiln.Engine.Diagnostics;
using Kiln.Engine.Registry;
using Kiln.Oci;
using Kiln.Oci.Registry;

namespace Kiln.Engine.Attestation;

/// <summary>
/// Requires a registry base to carry Kiln provenance signed by a given key (KilnBaseVerificationKey,
/// <c>kiln pull --key</c>): among the referrers of the pulled platform manifest, a DSSE envelope that verifies with the
/// key, whose in-toto statement is Kiln's and names that manifest's digest. The digest pin says the base is the image
/// the spec names; the signature says who built it.
/// </summary>
/// <remarks>
/// The check asks the registry every time it runs (the referrers are not cached): a build with the key set needs the
/// registry even when the base's blobs are cached. A local layout or archive base is refused rather than waved through,
/// so that setting the key never silently leaves a base unchecked.
/// </remarks>
internal static class BaseVerification
{
    /// <summary>The codes <see cref="ImageVerifier"/> throws for provenance that is missing or does not hold.</summary>
    private static readonly HashSet<string> ProvenanceFailures = new(StringComparer.Ordinal)
    {
        DiagnosticCodes.AttestationMissing,
        DiagnosticCodes.AttestationSignatureInvalid,
        DiagnosticCodes.AttestationSubjectMismatch,
        DiagnosticCodes.AttestationBuilderMismatch,
        DiagnosticCodes.AttestationMalformed,
        DiagnosticCodes.ImageTampered,
    };

    /// <summary>
    /// Verifies the provenance of <paramref name="manifest"/> (the platform manifest pulled for <paramref name="reference"/>)
    /// with the public key in <paramref name="publicKey"/>; <paramref name="who"/> opens every message (the spec, or the command).
    /// </summary>
    /// <exception cref="KilnException">KILN2177 when no attestation verifies; KILN4031 for an unusable key; KILN10xx when the registry cannot be asked.</exception>
    public static VerifyImageResult Require(string publicKey, ImageReference reference, Descriptor manifest, RegistrySettings settings, string who, Action<TransferEvent>? observer = null)
    {
        var source = $"{reference.Registry}/{reference.Repository}@{manifest.Digest}";
        using var client = settings.Client(reference.Registry, observer);
        try
        {
            return ImageVerifier.VerifyManifestInRegistry(new VerifyImageRequest(source, publicKey) { Settings = settings }, client, reference.Repository, manifest.Digest);
        }
        catch (KilnException e) when (e.Diagnostics.Length == 1 && ProvenanceFailures.Contains(e.Diagnostics[0].Code))
        {
            throw new KilnException(DiagnosticCodes.BaseNotVerified, $"{who}: base image '{reference}' is not verified by the key '{publicKey}' (KilnBaseVerificationKey): {e.Diagnostics[0].Code} {e.Diagnostics[0].Message} Use a base built and pushed by Kiln with the matching KilnSigningKey (its provenance travels as a referrer of the image), or check that the key is the right one.", inner: e);
        }
    }

    /// <summary>The KILN2178 message: a local layout or archive base cannot be checked against a registry's referrers, so it is refused while the key is set.</summary>
    public static string NotVerifiable(string who, string kind, string path) =>
        $"{who}: KilnBaseVerificationKey is set, but the base is a local {kind} ('{path}'), whose provenance Kiln does not check. Push the base to a registry (with its referrers) and use BaseImage.Registry(\"host/repo@sha256:…\"), or build without KilnBaseVerificationKey.";
}
