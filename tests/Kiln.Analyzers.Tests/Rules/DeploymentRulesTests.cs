using Kiln.Analyzers.Rules;

namespace Kiln.Analyzers.Tests.Rules;

/// <summary>
/// Kiln.Spec has no DeploymentSpec yet; these tests declare a stand-in under the same full name, the way the
/// rules find the real one when it arrives.
/// </summary>
public sealed class DeploymentRulesTests
{
    private const string DeploymentDsl = """
        namespace Kiln.Spec
        {
            public abstract class DeploymentSpec
            {
                public abstract string Name { get; }
                public abstract ImmutableArray<Component> Components { get; }
            }

            public sealed record Resources(string Cpu, string Memory);

            public sealed record Component(Type Server, int Replicas = 1, Resources? Resources = null)
            {
                public static Component Of<TServer>(int replicas = 1, Resources? resources = null) where TServer : ServerSpec => new(typeof(TServer), replicas, resources);
            }
        }

        public sealed class Api : ServerSpec
        {
            public override string Name => "api";
            public override string Version => "1.0.0";
            public override HealthCheck Health => HealthCheck.Http(8080);
        }

        public sealed class Worker : ServerSpec
        {
            public override string Name => "worker";
            public override string Version => "1.0.0";
        }

        public sealed class Cron : ServerSpec
        {
            public override string Name => "cron";
            public override string Version => "1.0.0";
            public override HealthCheck? Health => null;
        }

        """;

    [Fact]
    public Task DeployedServerWithoutHealthCheck_Reports() =>
        Verify<DeployedServerWithoutHealthCheckAnalyzer>.AnalyzerAsync(DeploymentDsl + """
            public sealed class Shop : DeploymentSpec
            {
                public override string Name => "shop";
                public override ImmutableArray<Component> Components =>
                [
                    Component.Of<Api>(replicas: 3),
                    {|KILN0012:Component.Of<Worker>()|},
                    new({|KILN0012:typeof(Cron)|}),
                ];
            }
            """);

    [Fact]
    public Task HealthyServersOrNoDeployment_DoNotReport() =>
        Verify<DeployedServerWithoutHealthCheckAnalyzer>.AnalyzerAsync(DeploymentDsl + """
            public sealed class Shop : DeploymentSpec
            {
                public override string Name => "shop";
                public override ImmutableArray<Component> Components => [Component.Of<Api>(replicas: 3)];
            }

            public static class Catalogue
            {
                public static ImmutableArray<Component> All => [Component.Of<Worker>()];
            }
            """);

    [Fact]
    public Task ComponentWithoutResources_Reports() =>
        Verify<ComponentWithoutResourcesAnalyzer>.AnalyzerAsync(DeploymentDsl + """
            public sealed class Shop : DeploymentSpec
            {
                public override string Name => "shop";
                public override ImmutableArray<Component> Components =>
                [
                    {|KILN0013:Component.Of<Api>(replicas: 3)|},
                    new({|KILN0013:typeof(Worker)|}, Replicas: 2),
                ];
            }
            """);

    [Fact]
    public Task ComponentWithResources_DoesNotReport() =>
        Verify<ComponentWithoutResourcesAnalyzer>.AnalyzerAsync(DeploymentDsl + """
            public sealed class Shop : DeploymentSpec
            {
                public override string Name => "shop";
                public override ImmutableArray<Component> Components =>
                [
                    Component.Of<Api>(replicas: 3, resources: new("500m", "256Mi")),
                    new(typeof(Worker), Resources: new(Cpu: "1", Memory: "1Gi")),
                ];
            }
            """);

    [Fact]
    public Task WithoutDeploymentSpecType_NothingRuns() =>
        Verify<ComponentWithoutResourcesAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
            }

            public sealed class Shop
            {
                public Type[] Servers => [typeof(Api)];
            }
            """);
}
