using System.Collections.Immutable;

namespace Kiln.Oci;

/// <summary>
/// An image manifest (https://github.com/opencontainers/image-spec/blob/v1.1.1/manifest.md). Parse also accepts
/// Docker's image manifest v2 schema 2, keeping its media types; <see cref="ToOci"/> converts them.
/// </summary>
public sealed record ImageManifest
{
    public ImageManifest(Descriptor config, ImmutableArray<Descriptor> layers)
    {
        Config = config;
        Layers = layers;
    }

    public ImageManifest()
    {
        Config = null!;
    }

    public string MediaType { get; init; } = MediaTypes.ImageManifest;

    public string? ArtifactType { get; init; }

    public Descriptor Config { get; init; }

    public ImmutableArray<Descriptor> Layers { get; init; } = [];

    public Descriptor? Subject { get; init; }

    public ImmutableSortedDictionary<string, string>? Annotations { get; init; }

    /// <summary>True when this is a Docker v2 schema 2 manifest.</summary>
    public bool IsDocker => MediaType == MediaTypes.DockerManifest;

    /// <summary>A copy with every Docker media type (manifest, config, layers) replaced by its OCI equivalent.
    /// The digests do not change: Docker and OCI configs and layers are the same bytes.</summary>
    public ImageManifest ToOci() => this with
    {
        MediaType = MediaTypes.ToOci(MediaType),
        Config = Config with { MediaType = MediaTypes.ToOci(Config.MediaType) },
        Layers = [.. Layers.OrEmpty().Select(l => l with { MediaType = MediaTypes.ToOci(l.MediaType) })],
    };

    public bool Equals(ImageManifest? other) =>
        other is not null
        && MediaType == other.MediaType
        && ArtifactType == other.ArtifactType
        && Config == other.Config
        && Structural.Equal(Layers, other.Layers)
        && Subject == other.Subject
        && Structural.Equal(Annotations, other.Annotations);

    public override int GetHashCode() => HashCode.Combine(MediaType, Config, Structural.Hash(Layers));

    /// <summary>Canonical JSON: schemaVersion, mediaType, artifactType, config, layers, subject, annotations.</summary>
    public byte[] ToJson()
    {
        if (Config is null)
        {
            throw new InvalidOperationException("An image manifest needs a config descriptor.");
        }

        return OciDocument.Write(new OciDocument.Frame(MediaType, ArtifactType, Subject, Annotations), w =>
        {
            w.WritePropertyName("config");
            Config.WriteTo(w);
            OciDocument.WriteDescriptors(w, "layers", Layers);
        });
    }

    /// <exception cref="OciFormatException">Not a schema 2 image manifest, or malformed.</exception>
    public static ImageManifest Parse(ReadOnlySpan<byte> json)
    {
        const string where = "image manifest";
        return OciDocument.Parse(json, where, MediaTypes.ImageManifest, MediaTypes.IsManifest, "an image manifest", (root, frame) => new ImageManifest
        {
            MediaType = frame.MediaType,
            ArtifactType = frame.ArtifactType,
            Config = JsonRead.TryGet(root, "config", out var config)
                ? Descriptor.Read(config, $"{where}.config")
                : throw new OciFormatException($"{where}.config: required member is missing."),
            Layers = JsonRead.Array(root, "layers", where, Descriptor.Read),
            Subject = frame.Subject,
            Annotations = frame.Annotations,
        });
    }
}
