using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Kiln.Engine.Deploy;
using Kiln.Spec;
using static Kiln.Engine.Tests.Deploy.DeploymentFixtures;

namespace Kiln.Engine.Tests.Deploy;

/// <summary>
/// Rendered objects checked through the official Kubernetes client's typed models: each document parses, and the typed
/// object serialises back to exactly the same tree (no field the models do not know, no value they read differently).
/// </summary>
public sealed class KubernetesRendererTests
{
    public static TheoryData<string> Policies => ["rolling", "blue-green", "blue-green-promoted", "load-balancer"];

    [Theory]
    [MemberData(nameof(Policies))]
    public void Render_EveryDocument_RoundTripsThroughClientModelsWithoutLoss(string policy)
    {
        var documents = Render(Deployment(WithPolicy(Component(Api()), policy), Component(Worker()) with { SecretBindings = [] }));

        Assert.NotEmpty(documents);
        foreach (var document in documents)
        {
            object typed = document.Kind switch
            {
                "Deployment" => KubernetesYaml.Deserialize<V1Deployment>(document.Yaml, strict: true),
                "Service" => KubernetesYaml.Deserialize<V1Service>(document.Yaml, strict: true),
                "PodDisruptionBudget" => KubernetesYaml.Deserialize<V1PodDisruptionBudget>(document.Yaml, strict: true),
                _ => throw new Xunit.Sdk.XunitException($"Unexpected kind {document.Kind}"),
            };

            var rendered = ToJson(document.Yaml);
            var roundTripped = JsonNode.Parse(KubernetesJson.Serialize(typed));
            Assert.True(JsonNode.DeepEquals(rendered, roundTripped), $"{document.FileName} lost or changed data in the client models:\nrendered:     {rendered!.ToJsonString()}\nround trip:   {roundTripped!.ToJsonString()}");
        }
    }

    [Fact]
    public void Render_RollingComponent_PinsDigestProbesSecurityContextAndAnnotations()
    {
        var documents = Render(Deployment(Component(Api())));

        Assert.Equal(["orders-api.deployment.yaml", "orders-api.service.yaml", "orders-api.pdb.yaml"], documents.Select(d => d.FileName));
        var deployment = KubernetesYaml.Deserialize<V1Deployment>(documents[0].Yaml, strict: true);
        Assert.Equal("yes", deployment.Metadata.NamespaceProperty);
        Assert.Equal("1.10", deployment.Metadata.Labels["app.kubernetes.io/version"]);
        Assert.Equal(3, deployment.Spec.Replicas);
        Assert.Equal("RollingUpdate", deployment.Spec.Strategy.Type);
        Assert.Equal("1", deployment.Spec.Strategy.RollingUpdate.MaxSurge.Value);
        Assert.DoesNotContain("app.kubernetes.io/version", deployment.Spec.Selector.MatchLabels.Keys);

        var pod = deployment.Spec.Template;
        Assert.Equal(ApiManifest.ToString(), pod.Metadata.Annotations[KubernetesRenderer.ManifestDigestAnnotation]);
        Assert.Equal("65536", pod.Metadata.Annotations["kiln.dev/open-files"]);
        Assert.Equal("512", pod.Metadata.Annotations["kiln.dev/processes"]);
        Assert.Equal(ApiManifest.ToString(), deployment.Metadata.Annotations[KubernetesRenderer.ManifestDigestAnnotation]);

        var container = Assert.Single(pod.Spec.Containers);
        Assert.Equal($"registry.example.com:5000/acme/shop/orders-api@{ApiDigest}", container.Image);
        Assert.Equal("/healthz", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("8080", container.ReadinessProbe.HttpGet.Port.Value);
        Assert.Equal(7, container.LivenessProbe.InitialDelaySeconds);
        Assert.Equal(5, container.LivenessProbe.PeriodSeconds);
        Assert.Equal(2, container.LivenessProbe.TimeoutSeconds);
        Assert.Equal(4, container.LivenessProbe.FailureThreshold);
        Assert.Equal("500m", container.Resources.Requests["cpu"].ToString());
        Assert.Equal("256Mi", container.Resources.Limits["memory"].ToString());

        var security = container.SecurityContext;
        Assert.False(security.AllowPrivilegeEscalation);
        Assert.True(security.ReadOnlyRootFilesystem);
        Assert.True(security.RunAsNonRoot);
        Assert.Equal(10001, security.RunAsUser);
        Assert.Equal(10002, security.RunAsGroup);
        Assert.Equal(["ALL"], security.Capabilities.Drop);
        Assert.Equal("RuntimeDefault", security.SeccompProfile.Type);
        Assert.Equal("RuntimeDefault", pod.Spec.SecurityContext.SeccompProfile.Type);
        Assert.False(pod.Spec.AutomountServiceAccountToken);

        // Only the declared volumes are writable: each is an emptyDir; the secret file is a read-only single-file mount.
        Assert.Equal(["/tmp", "/var/cache/orders", "/run/secrets/tls.pem"], container.VolumeMounts.Select(m => m.MountPath));
        Assert.All(pod.Spec.Volumes.Take(2), v => Assert.NotNull(v.EmptyDir));
        Assert.Equal("tls", pod.Spec.Volumes[2].Secret.SecretName);
        Assert.True(container.VolumeMounts[2].ReadOnlyProperty);

        var env = Assert.Single(container.Env);
        Assert.Equal("ConnectionStrings__Orders", env.Name);
        Assert.Equal("orders-database", env.ValueFrom.SecretKeyRef.Name);
        Assert.Equal("connection-string", env.ValueFrom.SecretKeyRef.Key);

        var budget = KubernetesYaml.Deserialize<V1PodDisruptionBudget>(documents[2].Yaml, strict: true);
        Assert.Equal("2", budget.Spec.MinAvailable.Value);
    }

    [Fact]
    public void Render_CommandHealthCheck_BecomesExecProbe()
    {
        var documents = Render(Deployment(Component(Worker()) with { SecretBindings = [] }));

        var container = KubernetesYaml.Deserialize<V1Deployment>(documents[0].Yaml, strict: true).Spec.Template.Spec.Containers.Single();
        Assert.Equal(["/bin/sh", "-c", "test -f /tmp/ready"], container.ReadinessProbe.Exec.Command);
        Assert.Null(container.VolumeMounts);
    }

    [Theory]
    [InlineData(false, "blue")]
    [InlineData(true, "green")]
    public void Render_BlueGreen_NewSlotDeploymentPreviewServiceAndSwitch(bool promoted, string mainSelects)
    {
        var component = Component(Api()) with { Rollout = RolloutPolicy.BlueGreen(BlueGreenSlot.Green, promoted) };

        var documents = Render(Deployment(component));

        Assert.Equal(["orders-api-green.deployment.yaml", "orders-api.service.yaml", "orders-api-preview.service.yaml", "orders-api-green.pdb.yaml"], documents.Select(d => d.FileName));
        var deployment = KubernetesYaml.Deserialize<V1Deployment>(documents[0].Yaml, strict: true);
        Assert.Equal("green", deployment.Spec.Selector.MatchLabels[KubernetesRenderer.SlotLabel]);
        Assert.Equal("green", deployment.Spec.Template.Metadata.Labels[KubernetesRenderer.SlotLabel]);
        Assert.Equal(mainSelects, KubernetesYaml.Deserialize<V1Service>(documents[1].Yaml, strict: true).Spec.Selector[KubernetesRenderer.SlotLabel]);
        Assert.Equal("green", KubernetesYaml.Deserialize<V1Service>(documents[2].Yaml, strict: true).Spec.Selector[KubernetesRenderer.SlotLabel]);
    }

    [Fact]
    public void Render_ArgoRolloutsBlueGreen_RendersRolloutWithActiveAndPreviewServices()
    {
        var component = Component(Api()) with { Rollout = RolloutPolicy.BlueGreen(BlueGreenSlot.Blue) with { ArgoRollouts = true } };

        var documents = Render(Deployment(component));

        Assert.Equal(["orders-api.rollout.yaml", "orders-api.service.yaml", "orders-api-preview.service.yaml", "orders-api.pdb.yaml"], documents.Select(d => d.FileName));
        var rollout = ToJson(documents[0].Yaml)!;
        Assert.Equal("argoproj.io/v1alpha1", (string?)rollout["apiVersion"]);
        Assert.Equal("Rollout", (string?)rollout["kind"]);
        Assert.Equal("orders-api", (string?)rollout["spec"]!["strategy"]!["blueGreen"]!["activeService"]);
        Assert.Equal("orders-api-preview", (string?)rollout["spec"]!["strategy"]!["blueGreen"]!["previewService"]);
        Assert.False((bool)rollout["spec"]!["strategy"]!["blueGreen"]!["autoPromotionEnabled"]!);

        // The pod template is a core PodTemplateSpec: it must survive the client's model like a Deployment's does.
        var template = KubernetesJson.Deserialize<V1PodTemplateSpec>(rollout["spec"]!["template"]!.ToJsonString());
        Assert.True(JsonNode.DeepEquals(rollout["spec"]!["template"], JsonNode.Parse(KubernetesJson.Serialize(template))));
    }

    [Fact]
    public void Render_RootAccount_DoesNotClaimNonRoot()
    {
        var documents = Render(Deployment(Component(Api() with { Account = Account.Root })));

        var deployment = KubernetesYaml.Deserialize<V1Deployment>(documents[0].Yaml, strict: true);
        Assert.False(deployment.Spec.Template.Spec.SecurityContext.RunAsNonRoot);
        Assert.Equal(0, deployment.Spec.Template.Spec.Containers[0].SecurityContext.RunAsUser);
    }

    [Fact]
    public void Render_SameInputTwice_IsByteIdentical()
    {
        var first = Render(Deployment(Component(Api()), Component(Worker()) with { SecretBindings = [] }));
        var second = Render(Deployment(Component(Api()), Component(Worker()) with { SecretBindings = [] }));

        Assert.Equal(first.Select(d => (d.FileName, d.Yaml)), second.Select(d => (d.FileName, d.Yaml)));
    }

    [Theory]
    [InlineData(null, null, "orders-api@")]
    [InlineData("registry.local:5000/", null, "registry.local:5000/orders-api@")]
    [InlineData("ghcr.io", "/acme/", "ghcr.io/acme/orders-api@")]
    public void ImageReference_RegistryAndPrefix_JoinedWithDigest(string? registry, string? prefix, string expectedStart)
    {
        Assert.Equal(expectedStart + ApiDigest, KubernetesRenderer.ImageReference("orders-api", ApiDigest, registry, prefix));
    }

    private static Kiln.Engine.Evaluation.ResolvedComponent WithPolicy(Kiln.Engine.Evaluation.ResolvedComponent component, string policy) => policy switch
    {
        "blue-green" => component with { Rollout = RolloutPolicy.BlueGreen(BlueGreenSlot.Blue) },
        "blue-green-promoted" => component with { Rollout = RolloutPolicy.BlueGreen(BlueGreenSlot.Green, promoted: true) },
        "load-balancer" => component with { Exposure = Exposure.ExternalLoadBalancer(ServicePort.Tcp(80, 8080, "http")) },
        _ => component,
    };

    /// <summary>The YAML as a JSON tree, as Kubernetes reads it.</summary>
    internal static JsonNode? ToJson(string yaml) => Kiln.Tests.Shared.YamlJsonTree.ToJson(yaml);
}
