using System.Collections.Immutable;
using Kiln.Spec;

namespace Shop.Specs;

/// <summary>
/// The whole Shop system as Kubernetes runs it: `dotnet build` renders bin/&lt;Configuration&gt;/kiln/deploy/shop/, every
/// image pinned by the digest this build produced (set KilnRegistry/KilnRepositoryPrefix to where CI pushes them).
/// Components are listed in rollout order: the worker and the API before the storefront that calls them.
/// </summary>
public sealed class ShopDeployment : DeploymentSpec
{
    public override string Name => "shop";

    public override ImmutableArray<Component> Components =>
    [
        Component.Of<ShopWorker>(
            replicas: 2,
            resources: Resources.Of(cpu: "250m", memory: "256Mi")),
        Component.Of<ShopApi>(
            replicas: 3,
            resources: Resources.Of(cpu: "500m", memory: "512Mi"),
            rollout: RolloutPolicy.RollingUpdate(maxSurge: "1", maxUnavailable: "0"),
            disruptionBudget: DisruptionBudget.MinAvailable(2)),
        Component.Of<ShopWeb>(
            replicas: 2,
            resources: Resources.Of(cpu: "100m", memory: "128Mi"),
            rollout: RolloutPolicy.BlueGreen(BlueGreenSlot.Blue, promoted: true),
            exposure: Exposure.ExternalLoadBalancer(ServicePort.Tcp(80, targetPort: 8081, name: "http"))),
    ];
}
