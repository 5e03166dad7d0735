using System.Collections.Immutable;
using Kiln.Engine.Deploy;
using Kiln.Engine.Evaluation;
using Kiln.Oci;
using Kiln.Spec;

namespace Kiln.Engine.Tests.Deploy;

/// <summary>Resolved servers and deployments built directly, as evaluation would produce them.</summary>
internal static class DeploymentFixtures
{
    public static readonly Digest ApiDigest = Digest.Sha256("api image"u8.ToArray());
    public static readonly Digest ApiManifest = Digest.Sha256("api manifest content"u8.ToArray());
    public static readonly Digest WorkerDigest = Digest.Sha256("worker image"u8.ToArray());
    public static readonly Digest WorkerManifest = Digest.Sha256("worker manifest content"u8.ToArray());

    public static ResolvedServer Api() => new()
    {
        SpecType = "Acme.Specs.OrdersApi",
        Name = "orders-api",
        Version = "1.10",
        Base = BaseImage.Scratch,
        Layers = [],
        Account = Account.NonRoot("orders", uid: 10001, gid: 10002),
        WorkingDirectory = "/app",
        Entrypoint = new Entrypoint("/app/Orders.Api"),
        Arguments = [],
        Environment = [],
        Ports = [Port.Tcp(8080, "http")],
        Health = HealthCheck.Http(8080, "/healthz") with { Interval = TimeSpan.FromSeconds(5), Timeout = TimeSpan.FromSeconds(2), StartPeriod = TimeSpan.FromSeconds(7), Retries = 4 },
        Limits = new Limits { OpenFiles = 65_536, Processes = 512 },
        Labels = [],
        Volumes = ["/tmp", "/var/cache/orders"],
        Secrets = [new SecretReference("orders-db", EnvironmentVariable: "ConnectionStrings__Orders"), new SecretReference("tls", Path: "/run/secrets/tls.pem")],
    };

    public static ResolvedServer Worker() => Api() with
    {
        SpecType = "Acme.Specs.Worker",
        Name = "worker",
        Version = "2.0.0",
        Ports = [Port.Tcp(9090)],
        Health = HealthCheck.Command("/bin/sh", "-c", "test -f /tmp/ready"),
        Limits = Limits.None,
        Volumes = [],
        Secrets = [],
    };

    public static ResolvedComponent Component(ResolvedServer server) => new()
    {
        Server = server,
        Replicas = 3,
        Resources = Resources.Of(cpu: "500m", memory: "256Mi"),
        Rollout = RolloutPolicy.RollingUpdate(maxSurge: "1", maxUnavailable: "0"),
        DisruptionBudget = DisruptionBudget.MinAvailable(2),
        SecretBindings = [new SecretBinding("orders-db", "orders-database", "connection-string")],
    };

    public static ResolvedDeployment Deployment(params ResolvedComponent[] components) => new()
    {
        SpecType = "Acme.Specs.Shop",
        Name = "shop",
        Namespace = "yes",
        Components = [.. components],
    };

    public static IReadOnlyDictionary<string, DeployedImage> Images() => new Dictionary<string, DeployedImage>
    {
        [Api().Reference] = new(Api().Reference, ApiDigest, ApiManifest),
        [Worker().Reference] = new(Worker().Reference, WorkerDigest, WorkerManifest),
    };

    public static ImmutableArray<RenderedDocument> Render(ResolvedDeployment deployment) =>
        KubernetesRenderer.Render(deployment, Images(), "registry.example.com:5000", "acme/shop");
}
