using System.Collections.Immutable;
using Kiln.Spec;

namespace Kiln.Engine.Evaluation;

/// <summary>
/// A server spec after evaluation: every property read exactly once, so that spec code runs once per build and
/// everything after this point works on plain immutable values.
/// </summary>
public sealed record ResolvedServer : ResolvedSpec
{
    public required string Name { get; init; }
    public required string Version { get; init; }
    public required BaseImage Base { get; init; }
    public required ImmutableArray<Layer> Layers { get; init; }
    public required Account Account { get; init; }
    public required string WorkingDirectory { get; init; }
    public Entrypoint? Entrypoint { get; init; }
    public required ImmutableArray<string> Arguments { get; init; }
    public required ImmutableArray<EnvironmentVariable> Environment { get; init; }
    public required ImmutableArray<Port> Ports { get; init; }
    public HealthCheck? Health { get; init; }
    public required Limits Limits { get; init; }
    public required ImmutableArray<Label> Labels { get; init; }
    public required ImmutableArray<string> Volumes { get; init; }
    public required ImmutableArray<SecretReference> Secrets { get; init; }

    /// <summary>The platforms the server is built for, in the spec's order (validated: at least one, no duplicates, supported).</summary>
    public ImmutableArray<Kiln.Spec.Platform> Platforms { get; init; } = [Kiln.Spec.Platform.LinuxAmd64];

    /// <summary>Whether the server is built as an image index over several platforms rather than one plain image.</summary>
    public bool IsMultiPlatform => Platforms.Length > 1;

    /// <summary>The image reference inside the layout: <c>name:version</c>.</summary>
    public string Reference => $"{Name}:{Version}";
}
