using Kiln.Engine.Building;
using Kiln.Engine.Requests;
using Kiln.Oci;
using Kiln.Oci.IO;

namespace Kiln.Engine.Attestation;

/// <summary>
/// Writes the attestations of one built image: the provenance statement and its DSSE envelope under
/// <c>attestations/</c>, and the envelope and the SBOM as OCI artifacts in the layout whose <c>subject</c> is the image.
/// </summary>
internal static class ImageAttestations
{
    /// <summary>The directory under the output directory.</summary>
    public const string Directory = "attestations";

    public static string StatementFileName(BuiltImage image) => $"{Manifests.KilnManifest.Stem(image)}.provenance.json";

    public static string EnvelopeFileName(BuiltImage image) => $"{Manifests.KilnManifest.Stem(image)}.provenance.dsse.json";

    /// <summary>Writes everything and returns the artifact manifests' descriptors (provenance first, then SBOM).</summary>
    public static IReadOnlyList<Descriptor> Write(string output, OciLayout layout, BuiltImage image, BuildRequest request, byte[] sbom, IAttestationSigner? signer)
    {
        var config = layout.ReadConfig(image.Config.Digest);
        var platform = $"{config.Os}/{config.Architecture}";
        var statement = Provenance.Statement(image, request.Evaluation.Assembly, request.Project, request.Attestation.Provenance, platform);
        var envelope = Dsse.Sign(Dsse.InTotoPayloadType, statement, signer);
        AtomicFile.WriteIfChanged(Path.Combine(output, Directory, StatementFileName(image)), statement);
        AtomicFile.WriteIfChanged(Path.Combine(output, Directory, EnvelopeFileName(image)), envelope);
        return
        [
            Referrers.Attach(layout, image.Manifest, Referrers.ProvenanceArtifactType, Dsse.EnvelopeMediaType, envelope, Provenance.PredicateType),
            Referrers.Attach(layout, image.Manifest, Referrers.SbomArtifactType, Referrers.SbomArtifactType, sbom, null),
        ];
    }

    /// <summary>The signer <paramref name="options"/> name (relative to <paramref name="projectDirectory"/>), or null for an unsigned build.</summary>
    public static EcdsaKeySigner? SignerFor(AttestationOptions options, string projectDirectory) =>
        string.IsNullOrWhiteSpace(options.SigningKey) ? null : EcdsaKeySigner.Load(Path.GetFullPath(options.SigningKey, projectDirectory));
}
