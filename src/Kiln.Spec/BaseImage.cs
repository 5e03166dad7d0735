using System.Collections.Immutable;

namespace Kiln.Spec;

/// <summary>What an image is built on.</summary>
public abstract record BaseImage
{
    private protected BaseImage() { }

    /// <summary>
    /// Lets the base's layers carry device nodes and FIFOs (refused by default, KILN2133): only for a base you
    /// trust whose image really needs them, e.g. <c>BaseImage.OciLayout("base", "legacy:1") with { AllowSpecialFiles = true }</c>.
    /// Paths that leave the root, hard links outside it and writes through symlinks stay refused.
    /// </summary>
    public bool AllowSpecialFiles { get; init; }

    /// <summary>An empty base: the image holds only its own layers.</summary>
    public static BaseImage Scratch { get; } = new ScratchBase();

    /// <summary>An image from a local OCI image layout directory, selected by its <c>org.opencontainers.image.ref.name</c>.</summary>
    /// <param name="path">The layout directory, relative to the spec project.</param>
    /// <param name="reference">The ref name inside the layout (for example <c>busybox:1.36</c>); may be omitted when the layout holds one image.</param>
    public static BaseImage OciLayout(string path, string? reference = null) => new OciLayoutBase(path, reference);

    /// <summary>An image from an OCI archive or a docker-archive (<c>docker save</c>) tar file.</summary>
    public static BaseImage Archive(string path, string? reference = null) => new ArchiveBase(path, reference);

    /// <summary>An image from a registry, pinned by digest (<c>registry/repo:tag@sha256:…</c> or <c>registry/repo@sha256:…</c>).</summary>
    public static BaseImage Registry(string reference, string? platform = null) => new RegistryBase(reference, platform);

    /// <summary>A distroless base built from Debian packages: their files, no maintainer scripts, no shell unless asked for.</summary>
    /// <param name="suite">The Debian suite, for example <c>bookworm</c>.</param>
    /// <param name="packages">Package names, optionally pinned as <c>name=version</c>.</param>
    /// <param name="architecture">The Debian architecture.</param>
    public static BaseImage Debian(string suite, ImmutableArray<string> packages, string architecture = "amd64") =>
        new DebianBase(suite, packages, architecture);
}

/// <summary>The empty base.</summary>
public sealed record ScratchBase : BaseImage;

/// <summary>A base image read from a local OCI image layout.</summary>
public sealed record OciLayoutBase(string Path, string? Reference) : BaseImage;

/// <summary>A base image read from an OCI archive or a docker-archive tar file.</summary>
public sealed record ArchiveBase(string Path, string? Reference) : BaseImage;

/// <summary>A base image pulled from a registry by digest.</summary>
public sealed record RegistryBase(string Reference, string? Platform) : BaseImage;

/// <summary>A base image assembled from Debian packages.</summary>
public sealed record DebianBase(string Suite, ImmutableArray<string> Packages, string Architecture) : BaseImage;
