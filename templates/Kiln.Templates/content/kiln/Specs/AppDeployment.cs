using System.Collections.Immutable;
using Kiln.Spec;

namespace KilnServers.Specs;

/// <summary>
/// The system as Kubernetes runs it: `dotnet build` renders bin/&lt;Configuration&gt;/kiln/deploy/app/, the image pinned
/// by the digest the build produced (set KilnRegistry and KilnRepositoryPrefix to where CI pushes it).
/// </summary>
public sealed class AppDeployment : DeploymentSpec
{
    public override string Name => "app";

    public override ImmutableArray<Component> Components =>
    [
        Component.Of<WebServer>(
            replicas: 2,
            resources: Resources.Of(cpu: "100m", memory: "64Mi"),
            rollout: RolloutPolicy.RollingUpdate(maxSurge: "1", maxUnavailable: "0"),
            exposure: Exposure.Service(ServicePort.Tcp(80, targetPort: 8080, name: "http"))),
    ];
}
