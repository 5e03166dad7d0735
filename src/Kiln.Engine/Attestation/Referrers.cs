using System.Collections.Immutable;
using Kiln.Oci;

namespace Kiln.Engine.Attestation;

/// <summary>
/// The OCI 1.1 artifacts Kiln attaches to an image (https://github.com/opencontainers/image-spec/blob/v1.1.1/manifest.md#guidelines-for-artifact-usage):
/// an image manifest whose <c>subject</c> is the image, whose config is the empty descriptor and whose one layer is the
/// payload. They are separate blobs: the image manifest, and so its digest, never changes because of them.
/// </summary>
public static class Referrers
{
    /// <summary>The artifact type of the provenance attestation: a DSSE envelope holding an in-toto statement.</summary>
    public const string ProvenanceArtifactType = Dsse.EnvelopeMediaType;

    /// <summary>The artifact type (and layer media type) of the CycloneDX SBOM.</summary>
    public const string SbomArtifactType = "application/vnd.cyclonedx+json";

    /// <summary>The annotation naming the predicate type, on the manifest (in-toto's key) and on the layer (cosign's key).</summary>
    public const string PredicateTypeAnnotation = "in-toto.io/predicate-type";

    /// <summary>cosign's layer annotation for the predicate type of an attestation layer.</summary>
    public const string CosignPredicateTypeAnnotation = "predicateType";

    /// <summary>The empty JSON object OCI 1.1 prescribes as the config of an artifact without one.</summary>
    public static ReadOnlySpan<byte> EmptyConfig => "{}"u8;

    /// <summary>Writes the artifact manifest (and its blobs) for <paramref name="subject"/> and returns its descriptor, carrying the artifact type as index entries and referrers indexes do.</summary>
    public static Descriptor Attach(OciLayout layout, Descriptor subject, string artifactType, string layerMediaType, ReadOnlySpan<byte> payload, string? predicateType)
    {
        var config = layout.WriteBlob(EmptyConfig, MediaTypes.EmptyJson);
        var layer = layout.WriteBlob(payload, layerMediaType);
        var manifestAnnotations = predicateType is null ? null : ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [new KeyValuePair<string, string>(PredicateTypeAnnotation, predicateType)]);
        if (predicateType is not null)
        {
            layer = layer with { Annotations = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [new KeyValuePair<string, string>(CosignPredicateTypeAnnotation, predicateType)]) };
        }

        var manifest = new ImageManifest(config, [layer])
        {
            ArtifactType = artifactType,
            Subject = new Descriptor(subject.MediaType, subject.Digest, subject.Size),
            Annotations = manifestAnnotations,
        };
        var written = layout.WriteBlob(manifest.ToJson(), MediaTypes.ImageManifest);
        return written with { ArtifactType = artifactType, Annotations = manifestAnnotations };
    }
}
