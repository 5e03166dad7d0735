using System.Collections.Immutable;
using Kiln.Engine.Evaluation;
using Kiln.Oci;

namespace Kiln.Engine.Planning;

/// <summary>What one image will be made of: its base, its layers and the inputs they come from.</summary>
internal sealed record ImagePlan(ResolvedServer Server, BasePlan Base, ImmutableArray<LayerPlan> Layers)
{
    /// <summary>The platform the image is for: one of the server's.</summary>
    public Kiln.Spec.Platform Platform { get; init; } = Kiln.Spec.Platform.LinuxAmd64;

    /// <summary>The platform as the image config and index descriptors write it.</summary>
    public Platform OciPlatform => new(Platform.Architecture, Platform.Os) { Variant = Platform.Variant };
}

/// <summary>
/// The resolved base image. <see cref="Source"/> is the layout its blobs are copied from; scratch has no layers.
/// </summary>
internal sealed record BasePlan(string Name, Descriptor? Manifest, ImageConfig? Config, ImmutableArray<Descriptor> Layers, OciLayout? Source)
{
    public static BasePlan Scratch { get; } = new("scratch", null, null, [], null);

    /// <summary>The operating-system packages the base holds (package bases), for manifests and SBOMs.</summary>
    public ImmutableArray<Lock.LockedPackage> Packages { get; init; } = [];

    /// <summary>The lock key of the package set a package base was built from (suite/architecture: packages); null for other bases.</summary>
    public string? PackageSetKey { get; init; }
}

/// <summary>One layer to write: its entries, a description of where they come from, and its cache key.</summary>
/// <param name="Source">What the layer is made from, relative to the project (for history and manifests).</param>
/// <param name="Entries">The entries, not yet sorted; modes may be undecided until the content is read.</param>
/// <param name="CacheKey">Identifies the layer's exact inputs; the same key means the same bytes.</param>
internal sealed record LayerPlan(string Source, ImmutableArray<PlannedEntry> Entries, string CacheKey)
{
    /// <summary>What the image history says the layer holds, when that reads better than <see cref="Source"/> (a part of a publish output).</summary>
    public string? History { get; init; }
}

/// <summary>An entry of a planned layer.</summary>
/// <param name="Path">Absolute path in the image.</param>
/// <param name="Mode">Permission bits, or null to decide from the content (executables 0755, others 0644).</param>
/// <param name="SourcePath">The file on disk the content comes from.</param>
internal sealed record PlannedEntry(string Path, EntryKind Kind, int? Mode, int Uid, int Gid, string? SourcePath, long Size, long LastWriteTicks)
{
    public const int DirectoryMode = 0x1ED; // 0755
    public const int ExecutableMode = 0x1ED; // 0755
    public const int RegularMode = 0x1A4; // 0644
    public const int SymlinkMode = 0x1FF; // 0777

    /// <summary>The target of a symlink entry (a relative link found inside a copied directory), stored as written.</summary>
    public string? LinkTarget { get; init; }

    /// <summary>The writer's entry, deciding the mode from the file's first bytes when the spec did not.</summary>
    public LayerEntry ToLayerEntry()
    {
        var mode = Mode ?? Kind switch
        {
            EntryKind.Directory => DirectoryMode,
            EntryKind.Symlink => SymlinkMode,
            _ => LooksExecutable(SourcePath!) ? ExecutableMode : RegularMode,
        };
        return new LayerEntry(Path, Kind) { Mode = mode, Uid = Uid, Gid = Gid, SourcePath = SourcePath, LinkTarget = LinkTarget };
    }

    private static bool LooksExecutable(string path)
    {
        Span<byte> head = stackalloc byte[4];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        var read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return LayerWriter.LooksExecutable(head[..read]);
    }
}
