using System.Collections.Immutable;
using Kiln.Spec;

namespace Kiln.Engine.Evaluation;

/// <summary>
/// A deployment spec after evaluation: every property read once and every component matched to the resolved server it
/// runs. It holds no <see cref="Type"/> of the user's assembly, so nothing keeps the collectible load context alive.
/// </summary>
public sealed record ResolvedDeployment : ResolvedSpec
{
    /// <summary>The deployment's name (its directory under deploy/).</summary>
    public required string Name { get; init; }

    /// <summary>The Kubernetes namespace, if the spec names one.</summary>
    public string? Namespace { get; init; }

    /// <summary>The components, in rollout order.</summary>
    public required ImmutableArray<ResolvedComponent> Components { get; init; }
}

/// <summary>One component: the server it runs and how it runs there.</summary>
public sealed record ResolvedComponent
{
    /// <summary>The server spec the component names, resolved.</summary>
    public required ResolvedServer Server { get; init; }

    /// <summary>How many instances run.</summary>
    public required int Replicas { get; init; }

    /// <summary>cpu and memory, if declared.</summary>
    public Resources? Resources { get; init; }

    /// <summary>How a new version replaces the old one.</summary>
    public required RolloutPolicy Rollout { get; init; }

    /// <summary>The declared exposure, or <see langword="null"/> for the default (every server port, cluster-internal).</summary>
    public Exposure? Exposure { get; init; }

    /// <summary>What a voluntary disruption may take down.</summary>
    public required DisruptionBudget DisruptionBudget { get; init; }

    /// <summary>Where the server's secrets come from.</summary>
    public required ImmutableArray<SecretBinding> SecretBindings { get; init; }

    /// <summary>The service ports: the declared ones, or one per TCP/UDP port of the server.</summary>
    public ImmutableArray<ServicePort> ServicePorts =>
        Exposure is { Ports.IsDefault: false } exposure ? exposure.Ports : [.. Server.Ports.Select(p => new ServicePort(p.Number, p.Number, p.Name))];

    /// <summary>The Service's name.</summary>
    public string ServiceName => Exposure?.ServiceName ?? Server.Name;
}
