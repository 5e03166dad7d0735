namespace Kiln.Oci;

/// <summary>
/// Media types of OCI (https://github.com/opencontainers/image-spec/blob/v1.1.1/media-types.md) and of Docker's
/// image manifest v2 schema 2, which Kiln reads (base images) but never writes.
/// </summary>
public static class MediaTypes
{
    public const string ImageManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string ImageIndex = "application/vnd.oci.image.index.v1+json";
    public const string ImageConfig = "application/vnd.oci.image.config.v1+json";
    public const string LayerTar = "application/vnd.oci.image.layer.v1.tar";
    public const string LayerTarGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string LayerTarZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
    public const string EmptyJson = "application/vnd.oci.empty.v1+json";

    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    public const string DockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    public const string DockerLayerTar = "application/vnd.docker.image.rootfs.diff.tar";

    /// <summary>True for every filesystem layer media type (OCI, OCI non-distributable, Docker).</summary>
    public static bool IsLayer(string mediaType) =>
        mediaType.StartsWith("application/vnd.oci.image.layer.", StringComparison.Ordinal)
        || mediaType.StartsWith("application/vnd.docker.image.rootfs.", StringComparison.Ordinal);

    /// <summary>True for gzip-compressed layers (OCI or Docker).</summary>
    public static bool IsGzipLayer(string mediaType) =>
        IsLayer(mediaType)
        && (mediaType.EndsWith("+gzip", StringComparison.Ordinal) || mediaType.EndsWith(".tar.gzip", StringComparison.Ordinal));

    /// <summary>True for an image manifest (OCI or Docker).</summary>
    public static bool IsManifest(string mediaType) => mediaType is ImageManifest or DockerManifest;

    /// <summary>True for an image index (OCI) or manifest list (Docker).</summary>
    public static bool IsIndex(string mediaType) => mediaType is ImageIndex or DockerManifestList;

    /// <summary>Maps a Docker media type to its OCI equivalent; returns OCI types unchanged.</summary>
    public static string ToOci(string mediaType) => mediaType switch
    {
        DockerManifest => ImageManifest,
        DockerManifestList => ImageIndex,
        DockerConfig => ImageConfig,
        DockerLayerGzip => LayerTarGzip,
        DockerLayerTar => LayerTar,
        _ => mediaType,
    };
}

/// <summary>Pre-defined annotation keys (https://github.com/opencontainers/image-spec/blob/v1.1.1/annotations.md).</summary>
public static class AnnotationKeys
{
    public const string RefName = "org.opencontainers.image.ref.name";
    public const string Created = "org.opencontainers.image.created";
    public const string Version = "org.opencontainers.image.version";
    public const string Title = "org.opencontainers.image.title";
    public const string Source = "org.opencontainers.image.source";
    public const string Revision = "org.opencontainers.image.revision";
    public const string BaseName = "org.opencontainers.image.base.name";
    public const string BaseDigest = "org.opencontainers.image.base.digest";
    public const string Description = "org.opencontainers.image.description";
    public const string Licenses = "org.opencontainers.image.licenses";
}
