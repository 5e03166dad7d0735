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
    public byte[] ToJson() => CanonicalJson.Serialize(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("schemaVersion", 2);
        w.WriteString("mediaType", MediaType);
        if (ArtifactType is not null)
        {
            w.WriteString("artifactType", ArtifactType);
        }

        w.WriteStartArray("manifests");
        foreach (var m in Manifests.OrEmpty())
        {
            m.WriteTo(w);
        }

        w.WriteEndArray();
        if (Subject is not null)
        {
            w.WritePropertyName("subject");
            Subject.WriteTo(w);
        }

        CanonicalJson.WriteAnnotations(w, Annotations);
        w.WriteEndObject();
    });

    /// <exception cref="OciFormatException">Not a schema 2 index, or malformed.</exception>
    public static ImageIndex Parse(ReadOnlySpan<byte> json)
    {
        const string where = "image index";
        using var document = JsonRead.Parse(json, where);
        var root = document.RootElement;
        ImageManifest.CheckSchemaVersion(root, where);
        string mediaType = JsonRead.String(root, "mediaType", where) ?? MediaTypes.ImageIndex;
        if (!MediaTypes.IsIndex(mediaType))
        {
            throw new OciFormatException($"{where}.mediaType: expected an image index, got \"{mediaType}\".");
        }

        return new ImageIndex
        {
            MediaType = mediaType,
            ArtifactType = JsonRead.String(root, "artifactType", where),
            Manifests = JsonRead.Array(root, "manifests", where, Descriptor.Read),
            Subject = JsonRead.TryGet(root, "subject", out var s) ? Descriptor.Read(s, $"{where}.subject") : null,
            Annotations = JsonRead.StringMap(root, "annotations", where),
        };
    }
}
