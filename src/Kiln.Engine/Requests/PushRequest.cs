using System.Collections.Immutable;
using Kiln.Engine.Registry;

namespace Kiln.Engine.Requests;

/// <summary>What <see cref="KilnEngine.Push"/> needs: a build's artifacts and where to push them. Handed in by the edge.</summary>
public sealed record PushRequest
{
    /// <summary>The build's artifact directory (bin/&lt;Configuration&gt;/kiln/), holding release.json and oci/.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>The registry, host[:port] (KilnRegistry).</summary>
    public required string Registry { get; init; }

    /// <summary>A repository path prefix (KilnRepositoryPrefix): images go to REGISTRY/PREFIX/NAME.</summary>
    public string? RepositoryPrefix { get; init; }

    /// <summary>How to reach and authenticate to registries.</summary>
    public RegistrySettings Settings { get; init; } = new();

    /// <summary>Blobs pushed at the same time.</summary>
    public int Parallelism { get; init; } = 3;

    /// <summary>
    /// KilnAllowTagOverwrite: let a version tag that the registry already holds for another digest be moved to this
    /// build's image. Versions are immutable, so this is only for a deliberate repair; every move is reported.
    /// </summary>
    public bool AllowTagOverwrite { get; init; }

    /// <summary>
    /// KilnExtraTags: tags pushed besides each image's version tag (for example the commit). They are moving pointers:
    /// pushed after the version tag, never in place of it, and never shaped like a version.
    /// </summary>
    public ImmutableArray<string> ExtraTags { get; init; } = [];
}
