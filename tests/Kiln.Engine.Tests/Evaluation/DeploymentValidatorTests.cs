using Kiln.Engine.Diagnostics;
using Kiln.Engine.Evaluation;
using Kiln.Spec;
using static Kiln.Engine.Tests.Deploy.DeploymentFixtures;

namespace Kiln.Engine.Tests.Evaluation;

/// <summary>DeploymentValidator on resolved deployments built directly: each bad input gives its KILN209x code.</summary>
public sealed class DeploymentValidatorTests
{
    [Fact]
    public void Validate_ValidDeployment_ReportsNothing()
    {
        Assert.Empty(Validate(Deployment(Component(Api()), Component(Worker()) with { SecretBindings = [] })).Items);
    }

    [Fact]
    public void Validate_RollingComponentWithoutHealthCheck_ReportsKiln2093()
    {
        var diagnostics = Validate(Deployment(Component(Api() with { Health = null })));

        AssertSingle(diagnostics, DiagnosticCodes.ComponentWithoutHealthCheck, "orders-api");
    }

    [Theory]
    [InlineData(3, 3)]
    [InlineData(2, 3)]
    public void Validate_ReplicasNotAboveMinAvailable_ReportsKiln2094(int replicas, int minAvailable)
    {
        var diagnostics = Validate(Deployment(Component(Api()) with { Replicas = replicas, DisruptionBudget = DisruptionBudget.MinAvailable(minAvailable) }));

        AssertSingle(diagnostics, DiagnosticCodes.ReplicasBelowDisruptionBudget, $"({replicas})");
    }

    [Fact]
    public void Validate_MaxUnavailableZero_ReportsKiln2094()
    {
        AssertSingle(Validate(Deployment(Component(Api()) with { DisruptionBudget = DisruptionBudget.MaxUnavailable(0) })), DiagnosticCodes.ReplicasBelowDisruptionBudget);
    }

    [Fact]
    public void Validate_TwoComponentsOnOneServicePort_ReportsKiln2095()
    {
        var worker = Component(Worker()) with { SecretBindings = [], Exposure = new Exposure([ServicePort.Tcp(8080, 9090)], ServiceName: "orders-api") };

        var diagnostics = Validate(Deployment(Component(Api()), worker));

        AssertSingle(diagnostics, DiagnosticCodes.ServicePortConflict, "port 8080 of service 'orders-api'");
    }

    [Fact]
    public void Validate_TwoComponentsOnOneServiceDifferentPorts_ReportsKiln2095()
    {
        var worker = Component(Worker()) with { SecretBindings = [], Exposure = new Exposure([ServicePort.Tcp(9090)], ServiceName: "orders-api") };

        AssertSingle(Validate(Deployment(Component(Api()), worker)), DiagnosticCodes.ServicePortConflict, "all use service 'orders-api'");
    }

    [Fact]
    public void Validate_SecretBindingTheServerDoesNotDeclare_ReportsKiln2096()
    {
        var component = Component(Api()) with { SecretBindings = [new SecretBinding("payments-key", "payments")] };

        AssertSingle(Validate(Deployment(component)), DiagnosticCodes.UnknownSecretReference, "'payments-key'");
    }

    [Theory]
    [InlineData("half", "256Mi")]
    [InlineData("500m", "lots")]
    [InlineData("500m", "256MB")]
    public void Validate_InvalidQuantity_ReportsKiln2098(string cpu, string memory)
    {
        AssertSingle(Validate(Deployment(Component(Api()) with { Resources = new Resources(cpu, memory) })), DiagnosticCodes.InvalidResources);
    }

    [Fact]
    public void Validate_LimitBelowRequest_ReportsKiln2098()
    {
        AssertSingle(Validate(Deployment(Component(Api()) with { Resources = new Resources("1", "1Gi", MemoryLimit: "512Mi") })), DiagnosticCodes.InvalidResources, "below the request");
    }

    [Theory]
    [InlineData("0", "0")]
    [InlineData("1.5", "0")]
    [InlineData("150%", "0")]
    [InlineData("-1", "0")]
    public void Validate_InvalidRollingUpdate_ReportsKiln2099(string surge, string unavailable)
    {
        AssertSingle(Validate(Deployment(Component(Api()) with { Rollout = RolloutPolicy.RollingUpdate(surge, unavailable) })), DiagnosticCodes.InvalidRolloutPolicy);
    }

    [Fact]
    public void Validate_ServicePortToUndeclaredTarget_ReportsKiln2100()
    {
        AssertSingle(Validate(Deployment(Component(Api()) with { Exposure = Exposure.Service(ServicePort.Tcp(80, 8081)) })), DiagnosticCodes.InvalidExposure, "8081");
    }

    [Fact]
    public void Validate_ServerNameNotAServiceName_ReportsKiln2100()
    {
        AssertSingle(Validate(Deployment(Component(Api() with { Name = "orders_api" }))), DiagnosticCodes.InvalidExposure, "'orders_api'");
    }

    [Theory]
    [InlineData("Shop")]
    [InlineData("shop.prod")]
    [InlineData("")]
    public void Validate_InvalidDeploymentName_ReportsKiln2090(string name)
    {
        AssertSingle(Validate(Deployment(Component(Api())) with { Name = name }), DiagnosticCodes.InvalidDeploymentName);
    }

    [Fact]
    public void Validate_ServerNameLongerThanALabelValue_ReportsKiln2090()
    {
        AssertSingle(Validate(Deployment(Component(Api() with { Name = "orders-" + new string('a', 60) }) with { Exposure = new Exposure([ServicePort.Tcp(8080)], ServiceName: "orders") })), DiagnosticCodes.InvalidDeploymentName, "63 characters");
    }

    [Fact]
    public void Validate_NoComponentsOrTheSameServerTwice_ReportsKiln2101AndKiln2092()
    {
        AssertSingle(Validate(Deployment()), DiagnosticCodes.EmptyDeployment);
        AssertSingle(Validate(Deployment(Component(Api()), Component(Api()))), DiagnosticCodes.DuplicateComponent);
    }

    [Fact]
    public void Validate_SeveralProblems_ReportsEveryOne()
    {
        var component = Component(Api() with { Health = null }) with { Replicas = 1, DisruptionBudget = DisruptionBudget.MinAvailable(1), SecretBindings = [new SecretBinding("nope", "nope")] };

        var codes = Validate(Deployment(component)).Items.Select(d => d.Code).Order().ToArray();

        Assert.Equal([DiagnosticCodes.ComponentWithoutHealthCheck, DiagnosticCodes.ReplicasBelowDisruptionBudget, DiagnosticCodes.UnknownSecretReference], codes);
    }

    [Theory]
    [InlineData("500m", 0.5)]
    [InlineData("1", 1)]
    [InlineData("256Mi", 268435456)]
    [InlineData("1G", 1e9)]
    [InlineData("1.5Gi", 1610612736)]
    public void Parse_Quantity_ValueInBaseUnits(string quantity, double expected)
    {
        Assert.Equal((decimal)expected, DeploymentValidator.Parse(quantity));
    }

    private static DiagnosticBag Validate(ResolvedDeployment deployment)
    {
        var diagnostics = new DiagnosticBag();
        DeploymentValidator.Validate([deployment], diagnostics);
        return diagnostics;
    }

    private static void AssertSingle(DiagnosticBag diagnostics, string code, string? contains = null)
    {
        var diagnostic = Assert.Single(diagnostics.Items);
        Assert.Equal(code, diagnostic.Code);
        Assert.Contains("Acme.Specs.Shop", diagnostic.Message);
        if (contains is not null)
        {
            Assert.Contains(contains, diagnostic.Message);
        }
    }
}
