using System.Collections.Immutable;

namespace Kiln.Oci;

/// <summary>
/// An image index (https://github.com/opencontainers/image-spec/blob/v1.1.1/image-index.md); also the format of
/// an image layout's index.json. Parse accepts Docker manifest lists.
/// </summary>
public sealed record ImageIndex
{
    public static ImageIndex Empty { get; } = new();

    public string MediaType { get; init; } = MediaTypes.ImageIndex;

    public string? ArtifactType { get; init; }

    public ImmutableArray<Descriptor> Manifests { get; init; } = [];

    public Descriptor? Subject { get; init; }

    public ImmutableSortedDictionary<string, string>? Annotations { get; init; }

    public bool Equals(ImageIndex? other) =>
        other is not null
        && MediaType == other.MediaType
        && ArtifactType == other.ArtifactType
        && Structural.Equal(Manifests, other.Manifests)
        && Subject == other.Subject
        && Structural.Equal(Annotations, other.Annotations);

    public override int GetHashCode() => HashCode.Combine(MediaType, Structural.Hash(Manifests));

    /// <summary>Canonical JSON: schemaVersion, mediaType, artifactType, manifests, subject, annotations.</summary>
    public byte[] ToJson() => OciDocument.Write(
        new OciDocument.Frame(MediaType, ArtifactType, Subject, Annotations),
        w => OciDocument.WriteDescriptors(w, "manifests", Manifests));

    /// <exception cref="OciFormatException">Not a schema 2 index, or malformed.</exception>
    public static ImageIndex Parse(ReadOnlySpan<byte> json) =>
        OciDocument.Parse(json, "image index", MediaTypes.ImageIndex, MediaTypes.IsIndex, "an image index", (root, frame) => new ImageIndex
        {
            MediaType = frame.MediaType,
            ArtifactType = frame.ArtifactType,
            Manifests = JsonRead.Array(root, "manifests", "image index", Descriptor.Read),
            Subject = frame.Subject,
            Annotations = frame.Annotations,
        });
}
