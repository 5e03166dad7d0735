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
}
