using Kiln.Analyzers.Rules;

namespace Kiln.Analyzers.Tests.Rules;

/// <summary>The deployment rules against the real Kiln.Spec DeploymentSpec DSL (Component.Of, Resources, with-expressions).</summary>
public sealed class DeploymentRulesTests
{
    private const string DeploymentDsl = """
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
                    new({|KILN0013:typeof(Worker)|}) { Replicas = 2 },
                    {|KILN0013:Component.Of<Api>()|} with { Replicas = 4 },
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
                    new(typeof(Worker)) { Resources = Resources.Of(cpu: "1", memory: "1Gi") },
                    Component.Of<Api>() with { Resources = new("250m", "128Mi") },
                ];
            }
            """);

    [Fact]
    public Task ServerListOutsideADeploymentSpec_DoesNotReport() =>
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
