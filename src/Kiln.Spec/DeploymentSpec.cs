using System.Collections.Immutable;

namespace Kiln.Spec;

/// <summary>
/// A whole system, declared as a type: the servers it is made of, how many instances of each run, what they may use,
/// how a new version replaces the old one and how each is reached. <c>dotnet build</c> renders every non-abstract
/// subclass to Kubernetes YAML under <c>bin/&lt;Configuration&gt;/kiln/deploy/&lt;Name&gt;/</c>, images pinned by digest.
/// </summary>
/// <remarks>
/// Kiln never changes a running instance: a new server version is a new image, and Kubernetes replaces the old
/// instances with new ones following each component's <see cref="RolloutPolicy"/>. List <see cref="Components"/> in
/// the order they should roll (dependencies first): <c>kiln plan</c> reports that order.
/// </remarks>
/// <example>
/// <code>
/// public sealed class Shop : DeploymentSpec
/// {
///     public override string Name => "shop";
///     public override ImmutableArray&lt;Component&gt; Components =>
///     [
///         Component.Of&lt;ShopApi&gt;(replicas: 3, resources: Resources.Of(cpu: "500m", memory: "256Mi")),
///     ];
/// }
/// </code>
/// </example>
public abstract class DeploymentSpec
{
    /// <summary>The deployment's name: a DNS label (lower-case letters, digits and '-'), also its directory under deploy/.</summary>
    public abstract string Name { get; }

    /// <summary>The components, in rollout order.</summary>
    public abstract ImmutableArray<Component> Components { get; }

    /// <summary>The Kubernetes namespace of every object, or <see langword="null"/> for the one kubectl is pointed at.</summary>
    public virtual string? Namespace => null;
}

/// <summary>One server of a deployment and how it runs there.</summary>
/// <remarks>Create it with <see cref="Of{TServer}"/>; adjust with <c>with { … }</c>.</remarks>
public sealed record Component
{
    /// <summary>A component running the server spec <paramref name="server"/> (a <see cref="ServerSpec"/> type of the same assembly).</summary>
    public Component(Type server) => Server = server;

    /// <summary>The server spec type. Evaluation checks that it is a concrete <see cref="ServerSpec"/> of the spec assembly.</summary>
    public Type Server { get; init; }

    /// <summary>How many instances run. Default 1.</summary>
    public int Replicas { get; init; } = 1;

    /// <summary>cpu and memory requests and limits. <see langword="null"/> leaves scheduling blind (analyzer KILN0013).</summary>
    public Resources? Resources { get; init; }

    /// <summary>How a new version replaces the old one. Default: a rolling update that never drops below the replica count.</summary>
    public RolloutPolicy Rollout { get; init; } = RolloutPolicy.RollingUpdate();

    /// <summary>How the component is reached. <see langword="null"/>: a cluster-internal service on every port the server declares.</summary>
    public Exposure? Exposure { get; init; }

    /// <summary>How many instances voluntary disruptions (node drains) may take down at once. Default: one.</summary>
    public DisruptionBudget DisruptionBudget { get; init; } = DisruptionBudget.MaxUnavailable(1);

    /// <summary>
    /// Where the platform finds the secrets the server declares (<see cref="ServerSpec.Secrets"/>). A secret without a
    /// binding comes from the Kubernetes Secret of the same name, key <c>value</c>.
    /// </summary>
    public ImmutableArray<SecretBinding> SecretBindings { get; init; } = [];

    /// <summary>A component running <typeparamref name="TServer"/>.</summary>
    public static Component Of<TServer>(
        int replicas = 1,
        Resources? resources = null,
        RolloutPolicy? rollout = null,
        Exposure? exposure = null,
        DisruptionBudget? disruptionBudget = null)
        where TServer : ServerSpec =>
        new(typeof(TServer))
        {
            Replicas = replicas,
            Resources = resources,
            Rollout = rollout ?? RolloutPolicy.RollingUpdate(),
            Exposure = exposure,
            DisruptionBudget = disruptionBudget ?? DisruptionBudget.MaxUnavailable(1),
        };
}

/// <summary>cpu and memory requests (what the scheduler reserves) and limits (what the instance may use), as Kubernetes quantities.</summary>
/// <param name="CpuRequest">For example <c>250m</c> or <c>1</c>.</param>
/// <param name="MemoryRequest">For example <c>256Mi</c>.</param>
/// <param name="CpuLimit">Defaults to no cpu limit (throttling hurts latency more than it protects neighbours).</param>
/// <param name="MemoryLimit">Defaults to the request.</param>
public sealed record Resources(string CpuRequest, string MemoryRequest, string? CpuLimit = null, string? MemoryLimit = null)
{
    /// <summary>Requests <paramref name="cpu"/> and <paramref name="memory"/>; memory is limited to the request unless <paramref name="memoryLimit"/> says otherwise.</summary>
    public static Resources Of(string cpu, string memory, string? cpuLimit = null, string? memoryLimit = null) =>
        new(cpu, memory, cpuLimit, memoryLimit ?? memory);
}

/// <summary>How a new version of a component replaces the old one.</summary>
public abstract record RolloutPolicy
{
    private protected RolloutPolicy() { }

    /// <summary>Render an Argo Rollouts <c>Rollout</c> instead of a Deployment (the cluster must run the Argo Rollouts controller).</summary>
    public bool ArgoRollouts { get; init; }

    /// <summary>
    /// Replace instances a few at a time. <paramref name="maxSurge"/> and <paramref name="maxUnavailable"/> are counts
    /// (<c>"1"</c>) or percentages of the replicas (<c>"25%"</c>), as in Kubernetes.
    /// </summary>
    public static RollingUpdatePolicy RollingUpdate(string maxSurge = "25%", string maxUnavailable = "0") => new(maxSurge, maxUnavailable);

    /// <summary>
    /// Run the new version beside the old one and switch all traffic at once. This version runs in <paramref name="slot"/>;
    /// until <paramref name="promoted"/>, the main service still selects the other slot and only the preview service
    /// (<c>&lt;service&gt;-preview</c>) reaches the new version. Promotion is a new spec version with <c>promoted: true</c>.
    /// </summary>
    public static BlueGreenPolicy BlueGreen(BlueGreenSlot slot, bool promoted = false) => new(slot, promoted);
}

/// <summary>A Kubernetes rolling update.</summary>
public sealed record RollingUpdatePolicy(string MaxSurge, string MaxUnavailable) : RolloutPolicy;

/// <summary>A blue/green rollout: two Deployments and a service switch (or an Argo Rollouts blue/green strategy).</summary>
public sealed record BlueGreenPolicy(BlueGreenSlot Slot, bool Promoted) : RolloutPolicy;

/// <summary>The two slots of a blue/green rollout.</summary>
public enum BlueGreenSlot
{
    /// <summary>The blue slot.</summary>
    Blue,

    /// <summary>The green slot.</summary>
    Green,
}

/// <summary>How a component is reached: a Kubernetes Service.</summary>
/// <param name="Ports">The service's ports.</param>
/// <param name="LoadBalancer">Ask the platform for an external load balancer (Service type LoadBalancer).</param>
/// <param name="ServiceName">The Service's name; defaults to the server's name.</param>
public sealed record Exposure(ImmutableArray<ServicePort> Ports, bool LoadBalancer = false, string? ServiceName = null)
{
    /// <summary>A cluster-internal service.</summary>
    public static Exposure Service(params ServicePort[] ports) => new([.. ports]);

    /// <summary>A service behind an external load balancer.</summary>
    public static Exposure ExternalLoadBalancer(params ServicePort[] ports) => new([.. ports], LoadBalancer: true);
}

/// <summary>One port of a service, forwarding to a port the server declares.</summary>
public sealed record ServicePort(int Port, int TargetPort, string? Name = null)
{
    /// <summary>Forwards <paramref name="port"/> to the server's <paramref name="targetPort"/> (default: the same number).</summary>
    public static ServicePort Tcp(int port, int? targetPort = null, string? name = null) => new(port, targetPort ?? port, name);
}

/// <summary>A PodDisruptionBudget: what a node drain may take down.</summary>
public sealed record DisruptionBudget
{
    private DisruptionBudget(int? minAvailable, int? maxUnavailable)
    {
        MinAvailableCount = minAvailable;
        MaxUnavailableCount = maxUnavailable;
    }

    /// <summary>At least this many instances stay up.</summary>
    public int? MinAvailableCount { get; }

    /// <summary>At most this many instances are down.</summary>
    public int? MaxUnavailableCount { get; }

    /// <summary>Keep at least <paramref name="count"/> instances up; it must be below the replica count, or no node can ever be drained.</summary>
    public static DisruptionBudget MinAvailable(int count) => new(count, null);

    /// <summary>Take at most <paramref name="count"/> instances down at once.</summary>
    public static DisruptionBudget MaxUnavailable(int count) => new(null, count);
}

/// <summary>Where the platform finds a secret a server declares.</summary>
/// <param name="Name">The name in the server's <see cref="ServerSpec.Secrets"/>.</param>
/// <param name="SecretName">The Kubernetes Secret.</param>
/// <param name="Key">The key inside it.</param>
public sealed record SecretBinding(string Name, string SecretName, string Key = "value");
