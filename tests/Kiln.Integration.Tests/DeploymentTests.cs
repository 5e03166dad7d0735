using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// DeploymentSpecs through a real <c>dotnet build</c>: the YAML under bin/…/kiln/deploy/ parses into the official client's
/// typed models without loss, passes the Kubernetes JSON schemas, pins this build's digests, and `kiln plan` between two
/// builds names exactly what changed.
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class DeploymentTests(KilnPackage package)
{
    internal static FixtureProject Shop(KilnPackage package, string workerVersion = "1.0.0", string workerScript = "#!/bin/sh\necho working\n", FixtureProject? existing = null) =>
        (existing ?? new FixtureProject(package, "Shop"))
            .Write("api.sh", "#!/bin/sh\necho serving\n")
            .Write("worker.sh", workerScript)
            .Write("admin.sh", "#!/bin/sh\necho admin\n")
            .Specs($$"""
                public sealed class Api : ServerSpec
                {
                    public override string Name => "shop-api";
                    public override string Version => "1.10.0";
                    public override ImmutableArray<Layer> Layers => [Layer.File("api.sh", to: "/app/api.sh")];
                    public override Entrypoint Entrypoint => new("/app/api.sh");
                    public override ImmutableArray<Port> Ports => [Port.Tcp(8080, "http")];
                    public override HealthCheck Health => HealthCheck.Http(8080, "/healthz");
                    public override Limits Limits => new() { OpenFiles = 4096 };
                    public override ImmutableArray<string> Volumes => ["/tmp"];
                    public override ImmutableArray<SecretReference> Secrets => [new("shop-db", EnvironmentVariable: "SHOP_DB")];
                }

                public sealed class Worker : ServerSpec
                {
                    public override string Name => "shop-worker";
                    public override string Version => "{{workerVersion}}";
                    public override ImmutableArray<Layer> Layers => [Layer.File("worker.sh", to: "/app/worker.sh")];
                    public override Entrypoint Entrypoint => new("/app/worker.sh");
                    public override ImmutableArray<Port> Ports => [Port.Tcp(9090)];
                    public override HealthCheck Health => HealthCheck.Command("/app/worker.sh", "--check");
                }

                public sealed class Admin : ServerSpec
                {
                    public override string Name => "shop-admin";
                    public override string Version => "1.0.0";
                    public override ImmutableArray<Layer> Layers => [Layer.File("admin.sh", to: "/app/admin.sh")];
                    public override Entrypoint Entrypoint => new("/app/admin.sh");
                    public override ImmutableArray<Port> Ports => [Port.Tcp(8081)];
                    public override HealthCheck Health => HealthCheck.Http(8081, "/");
                }

                public sealed class ShopDeployment : DeploymentSpec
                {
                    public override string Name => "shop";
                    public override string? Namespace => "on";
                    public override ImmutableArray<Component> Components =>
                    [
                        Component.Of<Worker>(resources: Resources.Of(cpu: "250m", memory: "128Mi"), rollout: RolloutPolicy.BlueGreen(BlueGreenSlot.Green)),
                        Component.Of<Api>(
                            replicas: 3,
                            resources: Resources.Of(cpu: "500m", memory: "256Mi"),
                            exposure: Exposure.ExternalLoadBalancer(ServicePort.Tcp(80, 8080, "http")),
                            disruptionBudget: DisruptionBudget.MinAvailable(2)) with { SecretBindings = [new("shop-db", "shop-database", "url")] },
                        Component.Of<Admin>(resources: Resources.Of(cpu: "100m", memory: "64Mi"), rollout: RolloutPolicy.RollingUpdate("1", "0") with { ArgoRollouts = true }),
                    ];
                }
                """);

    private static string DeployDirectory(FixtureProject fixture) => Path.Combine(fixture.OutputDirectory, "deploy", "shop");

    private static Dictionary<string, (string Digest, string ManifestDigest)> ReleaseImages(FixtureProject fixture)
    {
        using var release = JsonDocument.Parse(File.ReadAllText(fixture.ReleasePath));
        return release.RootElement.GetProperty("images").EnumerateArray().ToDictionary(
            i => i.GetProperty("name").GetString()!,
            i => (i.GetProperty("digest").GetString()!, i.GetProperty("manifestContentDigest").GetString()!));
    }

    [Fact]
    public void Build_DeploymentSpec_EveryDocumentRoundTripsThroughClientModelsWithDigestsProbesAndSecurity()
    {
        var fixture = Shop(package);
        fixture.BuildOk("-p:KilnRegistry=registry.example.com:5000", "-p:KilnRepositoryPrefix=acme");
        var images = ReleaseImages(fixture);

        var files = Directory.GetFiles(DeployDirectory(fixture)).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(
            [
                "shop-admin.pdb.yaml", "shop-admin.rollout.yaml", "shop-admin.service.yaml",
                "shop-api.deployment.yaml", "shop-api.pdb.yaml", "shop-api.service.yaml",
                "shop-worker-green.deployment.yaml", "shop-worker-green.pdb.yaml", "shop-worker-preview.service.yaml", "shop-worker.service.yaml",
            ],
            files);

        foreach (var path in Directory.GetFiles(DeployDirectory(fixture)))
        {
            var yaml = File.ReadAllText(path);
            var rendered = KubernetesDocuments.ToJson(yaml);
            var kind = (string)rendered["kind"]!;
            if (kind == "Rollout")
            {
                // Argo's Rollout has no model in the client; its pod template is a core PodTemplateSpec and must survive one.
                var template = KubernetesJson.Deserialize<V1PodTemplateSpec>(rendered["spec"]!["template"]!.ToJsonString());
                Assert.True(JsonNode.DeepEquals(rendered["spec"]!["template"], JsonNode.Parse(KubernetesJson.Serialize(template))), path);
                continue;
            }

            object typed = kind switch
            {
                "Deployment" => KubernetesYaml.Deserialize<V1Deployment>(yaml, strict: true),
                "Service" => KubernetesYaml.Deserialize<V1Service>(yaml, strict: true),
                "PodDisruptionBudget" => KubernetesYaml.Deserialize<V1PodDisruptionBudget>(yaml, strict: true),
                _ => throw new Xunit.Sdk.XunitException($"{path}: unexpected kind {kind}"),
            };
            var roundTripped = JsonNode.Parse(KubernetesJson.Serialize(typed));
            Assert.True(JsonNode.DeepEquals(rendered, roundTripped), $"{path} lost or changed data in the client models:\n{rendered.ToJsonString()}\n{roundTripped!.ToJsonString()}");
        }

        var api = KubernetesYaml.Deserialize<V1Deployment>(File.ReadAllText(Path.Combine(DeployDirectory(fixture), "shop-api.deployment.yaml")), strict: true);
        var container = api.Spec.Template.Spec.Containers.Single();
        Assert.Equal($"registry.example.com:5000/acme/shop-api@{images["shop-api"].Digest}", container.Image);
        Assert.Equal(images["shop-api"].ManifestDigest, api.Spec.Template.Metadata.Annotations["kiln.dev/manifest-digest"]);
        Assert.Equal("4096", api.Spec.Template.Metadata.Annotations["kiln.dev/open-files"]);
        Assert.Equal("1.10.0", api.Metadata.Labels["app.kubernetes.io/version"]);
        Assert.Equal("on", api.Metadata.NamespaceProperty);
        Assert.Equal("/healthz", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("/healthz", container.LivenessProbe.HttpGet.Path);
        Assert.True(container.SecurityContext.ReadOnlyRootFilesystem);
        Assert.False(container.SecurityContext.AllowPrivilegeEscalation);
        Assert.Equal(["ALL"], container.SecurityContext.Capabilities.Drop);
        Assert.Equal(10001, container.SecurityContext.RunAsUser);
        Assert.Equal("RuntimeDefault", api.Spec.Template.Spec.SecurityContext.SeccompProfile.Type);
        Assert.Equal("/tmp", container.VolumeMounts.Single().MountPath);
        Assert.NotNull(api.Spec.Template.Spec.Volumes.Single().EmptyDir);
        Assert.Equal("shop-database", container.Env.Single().ValueFrom.SecretKeyRef.Name);

        var service = KubernetesYaml.Deserialize<V1Service>(File.ReadAllText(Path.Combine(DeployDirectory(fixture), "shop-api.service.yaml")), strict: true);
        Assert.Equal("LoadBalancer", service.Spec.Type);
        Assert.Equal(80, service.Spec.Ports.Single().Port);

        var worker = KubernetesYaml.Deserialize<V1Deployment>(File.ReadAllText(Path.Combine(DeployDirectory(fixture), "shop-worker-green.deployment.yaml")), strict: true);
        Assert.Equal($"registry.example.com:5000/acme/shop-worker@{images["shop-worker"].Digest}", worker.Spec.Template.Spec.Containers.Single().Image);
        Assert.Equal(["/app/worker.sh", "--check"], worker.Spec.Template.Spec.Containers.Single().ReadinessProbe.Exec.Command);
        Assert.Equal("blue", KubernetesYaml.Deserialize<V1Service>(File.ReadAllText(Path.Combine(DeployDirectory(fixture), "shop-worker.service.yaml")), strict: true).Spec.Selector["kiln.dev/slot"]);

        using var release = JsonDocument.Parse(File.ReadAllText(fixture.ReleasePath));
        var deployment = release.RootElement.GetProperty("deployments").EnumerateArray().Single();
        Assert.Equal(["shop-worker:1.0.0", "shop-api:1.10.0", "shop-admin:1.0.0"], deployment.GetProperty("components").EnumerateArray().Select(c => c.GetString()));
    }

    [SkippableFact]
    public void Build_DeploymentSpec_EveryDocumentPassesTheKubernetesJsonSchema()
    {
        var validator = KubernetesDocuments.SchemaValidator(package)!;
        var fixture = Shop(package);
        fixture.BuildOk();

        var documents = Directory.GetFiles(DeployDirectory(fixture)).Select(p => (Path.GetFileNameWithoutExtension(p), KubernetesDocuments.ToJson(File.ReadAllText(p)))).ToList();
        var result = KubernetesDocuments.Validate(validator, Path.Combine(fixture.Directory, "schema-check"), documents);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Equal(documents.Count, result.Output.Split('\n').Count(l => l.StartsWith("valid ", StringComparison.Ordinal)));

        // The check itself can fail: the same Deployment with a replica count that is a string is rejected.
        var broken = documents.Single(d => d.Item1 == "shop-api.deployment").Item2.DeepClone();
        broken["spec"]!["replicas"] = "three";
        var rejected = KubernetesDocuments.Validate(validator, Path.Combine(fixture.Directory, "schema-check-broken"), [("broken", broken)]);
        Assert.True(rejected.ExitCode != 0, rejected.Output);
        Assert.Contains("INVALID", rejected.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_BadDeployment_ReportsEveryProblemWithItsCodeAndWritesNothing()
    {
        var fixture = new FixtureProject(package).Write("app.sh", "#!/bin/sh\n").Specs("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override ImmutableArray<Layer> Layers => [Layer.File("app.sh", to: "/app.sh")];
                public override ImmutableArray<Port> Ports => [Port.Tcp(8080)];
                public override ImmutableArray<SecretReference> Secrets => [new("db", EnvironmentVariable: "DB")];
            }

            public sealed class Web : ServerSpec
            {
                public override string Name => "web";
                public override string Version => "1.0.0";
                public override ImmutableArray<Layer> Layers => [Layer.File("app.sh", to: "/app.sh")];
                public override ImmutableArray<Port> Ports => [Port.Tcp(8080)];
                public override HealthCheck Health => HealthCheck.Http(8080);
            }

            public sealed class Bad : DeploymentSpec
            {
                public override string Name => "bad";
                public override ImmutableArray<Component> Components =>
                [
                    Component.Of<Api>(replicas: 2, disruptionBudget: DisruptionBudget.MinAvailable(2)) with { SecretBindings = [new("payments", "payments")] },
                    Component.Of<Web>() with { Exposure = new Exposure([ServicePort.Tcp(8080)], ServiceName: "api") },
                    new(typeof(string)),
                ];
            }
            """);

        var result = fixture.Build();

        Assert.True(result.ExitCode != 0, result.Output);
        foreach (var code in new[] { "KILN2091", "KILN2093", "KILN2094", "KILN2095", "KILN2096" })
        {
            Assert.Contains($"error {code}:", result.Output, StringComparison.Ordinal);
        }

        Assert.Contains("Fixture.Bad", result.Output, StringComparison.Ordinal);
        Assert.Contains("Specs.cs(", result.Output, StringComparison.Ordinal);

        // The analyzers saw the same components at compile time: Api has no health check, none declares resources.
        Assert.Contains("warning KILN0012:", result.Output, StringComparison.Ordinal);
        Assert.Contains("warning KILN0013:", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at Kiln.", result.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(fixture.OutputDirectory, "deploy")));
    }

    [Fact]
    public void Plan_BetweenTwoBuilds_NamesExactlyTheComponentsThatChanged()
    {
        var fixture = Shop(package);
        fixture.BuildOk();
        var before = ReleaseImages(fixture);
        var old = Path.Combine(fixture.Directory, "released-1");
        CopyDirectory(fixture.OutputDirectory, old);

        Shop(package, workerVersion: "1.1.0", workerScript: "#!/bin/sh\necho working harder\n", existing: fixture);
        fixture.BuildOk();
        var after = ReleaseImages(fixture);

        var result = KilnCli.Run(package, fixture.Directory, "plan", Path.Combine(old, "release.json"), fixture.ReleasePath, "--json");

        Assert.True(result.ExitCode == 0, result.Output);
        var plan = JsonNode.Parse(result.Output)!;
        Assert.Equal(["shop-worker"], plan["rolls"]!.AsArray().Select(r => (string)r!));
        var components = plan["components"]!.AsArray();
        Assert.Equal(["shop-worker", "shop-api", "shop-admin"], components.Select(c => (string)c!["server"]!));
        var worker = components[0]!;
        Assert.Equal("roll", (string)worker["action"]!);
        Assert.Equal(before["shop-worker"].Digest, (string)worker["fromDigest"]!);
        Assert.Equal(after["shop-worker"].Digest, (string)worker["toDigest"]!);
        Assert.Contains(worker["changes"]!.AsArray(), c => ((string)c!).Contains("/app/worker.sh", StringComparison.Ordinal));
        Assert.All(components.Skip(1), c => Assert.Equal("keep", (string)c!["action"]!));

        var table = KilnCli.Run(package, fixture.Directory, "plan", Path.Combine(old, "release.json"), fixture.ReleasePath);
        Assert.True(table.ExitCode == 0, table.Output);
        Assert.Contains("1 component(s) roll", table.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_MissingOrForeignRelease_ReportsKiln2103AndKiln5020()
    {
        var fixture = new FixtureProject(package).Write("not-a-release.json", """{ "kind": "Something" }""");
        Assert.Equal(0, fixture.Build("-t:Restore").ExitCode); // puts the packed engine (kiln.dll) in the test's package cache

        var missing = KilnCli.Run(package, fixture.Directory, "plan", "nope.json", "not-a-release.json");
        var foreign = KilnCli.Run(package, fixture.Directory, "plan", "not-a-release.json", "not-a-release.json");

        Assert.Equal(16, missing.ExitCode);
        Assert.Contains("KILN2103", missing.Output, StringComparison.Ordinal);
        Assert.Equal(16, foreign.ExitCode);
        Assert.Contains("KILN5020", foreign.Output, StringComparison.Ordinal);
        Assert.Contains("field 'kind'", foreign.Output, StringComparison.Ordinal);
    }

    private static void CopyDirectory(string source, string destination)
    {
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(destination, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
