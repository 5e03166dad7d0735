using System.Collections.Immutable;
using System.Text.Json;

namespace Kiln.Oci;

/// <summary>The platform an image runs on (https://github.com/opencontainers/image-spec/blob/v1.1.1/image-index.md).</summary>
public sealed record Platform(string Architecture, string Os)
{
    public string? Variant { get; init; }

    public string? OsVersion { get; init; }

    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";

    internal void WriteTo(Utf8JsonWriter w, string name)
    {
        // Order of the image-spec Go types (specs-go/v1): architecture, os, os.version, variant.
        w.WriteStartObject(name);
        w.WriteString("architecture", Architecture);
        w.WriteString("os", Os);
        if (OsVersion is not null)
        {
            w.WriteString("os.version", OsVersion);
        }

        if (Variant is not null)
        {
            w.WriteString("variant", Variant);
        }

        w.WriteEndObject();
    }

    internal static Platform Read(JsonElement e, string where)
    {
        JsonRead.RequireObject(e, where);
        return new Platform(JsonRead.RequiredString(e, "architecture", where), JsonRead.RequiredString(e, "os", where))
        {
            Variant = JsonRead.String(e, "variant", where),
            OsVersion = JsonRead.String(e, "os.version", where),
        };
    }
}

/// <summary>
/// A reference to content: media type, digest and size
/// (https://github.com/opencontainers/image-spec/blob/v1.1.1/descriptor.md).
/// Annotations are kept sorted (ordinal) so that serialisation is canonical.
/// </summary>
public sealed record Descriptor(string MediaType, Digest Digest, long Size)
{
    public ImmutableSortedDictionary<string, string>? Annotations { get; init; }

    public Platform? Platform { get; init; }

    public string? ArtifactType { get; init; }

    /// <summary>The <c>org.opencontainers.image.ref.name</c> annotation, if any.</summary>
    public string? RefName => Annotations is not null && Annotations.TryGetValue(AnnotationKeys.RefName, out var v) ? v : null;

    /// <summary>A copy with <paramref name="key"/> set to <paramref name="value"/> in the annotations.</summary>
    public Descriptor WithAnnotation(string key, string value) => this with
    {
        Annotations = (Annotations ?? ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal)).SetItem(key, value),
    };

    public bool Equals(Descriptor? other) =>
        other is not null
        && MediaType == other.MediaType
        && Digest == other.Digest
        && Size == other.Size
        && ArtifactType == other.ArtifactType
        && Platform == other.Platform
        && Structural.Equal(Annotations, other.Annotations);

    public override int GetHashCode() => HashCode.Combine(MediaType, Digest, Size);

    internal void WriteTo(Utf8JsonWriter w)
    {
        // Order of the image-spec Go types (specs-go/v1): mediaType, digest, size, annotations, platform, artifactType.
        w.WriteStartObject();
        w.WriteString("mediaType", MediaType);
        w.WriteString("digest", Digest.ToString());
        w.WriteNumber("size", Size);
        CanonicalJson.WriteAnnotations(w, Annotations);
        Platform?.WriteTo(w, "platform");
        if (ArtifactType is not null)
        {
            w.WriteString("artifactType", ArtifactType);
        }

        w.WriteEndObject();
    }

    internal static Descriptor Read(JsonElement e, string where)
    {
        JsonRead.RequireObject(e, where);
        long size = JsonRead.RequiredInt64(e, "size", where);
        if (size < 0)
        {
            throw new OciFormatException($"{where}.size: must not be negative, got {size}.");
        }

        return new Descriptor(JsonRead.RequiredString(e, "mediaType", where), JsonRead.Digest(e, "digest", where), size)
        {
            Annotations = JsonRead.StringMap(e, "annotations", where),
            Platform = JsonRead.TryGet(e, "platform", out var p) ? Platform.Read(p, $"{where}.platform") : null,
            ArtifactType = JsonRead.String(e, "artifactType", where),
        };
    }
}
