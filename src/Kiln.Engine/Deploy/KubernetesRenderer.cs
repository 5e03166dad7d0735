using System.Collections.Immutable;
using System.Globalization;
using Kiln.Engine.Evaluation;
using Kiln.Oci;
using Kiln.Spec;

namespace Kiln.Engine.Deploy;

/// <summary>The image a component runs, as a build produced it.</summary>
/// <param name="Reference">name:version.</param>
/// <param name="Digest">The image manifest's digest; the rendered YAML pins it.</param>
/// <param name="ManifestContentDigest">The Kiln manifest's content digest, carried as an annotation so that what runs traces back to its spec.</param>
public sealed record DeployedImage(string Reference, Digest Digest, Digest ManifestContentDigest);

/// <summary>One rendered Kubernetes object.</summary>
/// <param name="FileName">Its file under deploy/&lt;deployment&gt;/.</param>
/// <param name="Kind">Its Kubernetes kind.</param>
/// <param name="Name">Its metadata.name.</param>
/// <param name="Yaml">The document.</param>
public sealed record RenderedDocument(string FileName, string Kind, string Name, string Yaml);

/// <summary>
/// Renders a resolved deployment to Kubernetes objects: per component a Deployment (two for blue/green, or an Argo
/// Rollouts Rollout), a Service and a PodDisruptionBudget. Images are pinned by digest; the pod runs as the spec's
/// account with a read-only root, only the declared volumes writable, no privilege escalation, no capabilities and the
/// runtime's default seccomp profile. Output depends on nothing but its inputs.
/// </summary>
internal static class KubernetesRenderer
{
    public const string AnnotationPrefix = "kiln.dev/";
    public const string ManifestDigestAnnotation = AnnotationPrefix + "manifest-digest";
    public const string SlotLabel = AnnotationPrefix + "slot";

    public static ImmutableArray<RenderedDocument> Render(ResolvedDeployment deployment, IReadOnlyDictionary<string, DeployedImage> images, string? registry, string? repositoryPrefix)
    {
        var documents = ImmutableArray.CreateBuilder<RenderedDocument>();
        foreach (var component in deployment.Components)
        {
            var image = images[component.Server.Reference];
            var context = new Context(deployment, component, image, ImageReference(component.Server.Name, image.Digest, registry, repositoryPrefix));
            foreach (var (fileName, document) in RenderComponent(context))
            {
                var metadata = (YamlMap)document.Single(e => e.Key == "metadata").Value;
                var name = ((YamlString)metadata.Single(e => e.Key == "name").Value).Value;
                var kind = ((YamlString)document.Single(e => e.Key == "kind").Value).Value;
                documents.Add(new RenderedDocument(fileName, kind, name, YamlWriter.Write(document)));
            }
        }

        return documents.ToImmutable();
    }

    /// <summary><c>registry/prefix/name@sha256:…</c>: a digest, never a tag, so that what runs is exactly what was built.</summary>
    public static string ImageReference(string name, Digest digest, string? registry, string? repositoryPrefix)
    {
        var parts = new[] { registry?.Trim('/'), repositoryPrefix?.Trim('/'), name }.Where(p => !string.IsNullOrEmpty(p));
        return $"{string.Join('/', parts)}@{digest}";
    }

    private sealed record Context(ResolvedDeployment Deployment, ResolvedComponent Component, DeployedImage Image, string ImageReference)
    {
        public ResolvedServer Server => Component.Server;

        /// <summary>Kubernetes object names are DNS subdomains; server names may also hold '_', which becomes '-'.</summary>
        public string ObjectName => Server.Name.Replace('_', '-');
    }

    private static IEnumerable<(string FileName, YamlMap Document)> RenderComponent(Context c)
    {
        var name = c.ObjectName;
        var service = c.Component.ServiceName;
        var hasService = !c.Component.ServicePorts.IsEmpty;
        switch (c.Component.Rollout)
        {
            case BlueGreenPolicy blueGreen when !blueGreen.ArgoRollouts:
                var slot = SlotName(blueGreen.Slot);
                var other = SlotName(blueGreen.Slot == BlueGreenSlot.Blue ? BlueGreenSlot.Green : BlueGreenSlot.Blue);
                yield return ($"{name}-{slot}.deployment.yaml", Workload(c, "apps/v1", "Deployment", $"{name}-{slot}", slot, strategy: null));
                if (hasService)
                {
                    // The switch: until promotion the main service keeps selecting the other slot (the old version).
                    yield return ($"{service}.service.yaml", Service(c, service, blueGreen.Promoted ? slot : other));
                    yield return ($"{service}-preview.service.yaml", Service(c, $"{service}-preview", slot));
                }

                yield return ($"{name}-{slot}.pdb.yaml", Budget(c, $"{name}-{slot}", slot));
                break;
            case BlueGreenPolicy blueGreen:
                var argoBlueGreen = new YamlMap
                {
                    { "blueGreen", new YamlMap { { "activeService", service }, { "previewService", $"{service}-preview" }, { "autoPromotionEnabled", blueGreen.Promoted } } },
                };
                yield return ($"{name}.rollout.yaml", Workload(c, "argoproj.io/v1alpha1", "Rollout", name, slot: null, argoBlueGreen));
                if (hasService)
                {
                    yield return ($"{service}.service.yaml", Service(c, service, slot: null));
                    yield return ($"{service}-preview.service.yaml", Service(c, $"{service}-preview", slot: null));
                }

                yield return ($"{name}.pdb.yaml", Budget(c, name, slot: null));
                break;
            case RollingUpdatePolicy rolling:
                var update = new YamlMap { { "maxSurge", IntOrPercent(rolling.MaxSurge) }, { "maxUnavailable", IntOrPercent(rolling.MaxUnavailable) } };
                var (apiVersion, kind, strategy) = rolling.ArgoRollouts
                    ? ("argoproj.io/v1alpha1", "Rollout", new YamlMap { { "canary", update } })
                    : ("apps/v1", "Deployment", new YamlMap { { "type", "RollingUpdate" }, { "rollingUpdate", update } });
                yield return ($"{name}.{kind.ToLowerInvariant()}.yaml", Workload(c, apiVersion, kind, name, slot: null, strategy));
                if (hasService)
                {
                    yield return ($"{service}.service.yaml", Service(c, service, slot: null));
                }

                yield return ($"{name}.pdb.yaml", Budget(c, name, slot: null));
                break;
        }
    }

    private static string SlotName(BlueGreenSlot slot) => slot == BlueGreenSlot.Blue ? "blue" : "green";

    private static YamlNode IntOrPercent(string value) =>
        value.EndsWith('%') ? new YamlString(value) : new YamlInt(long.Parse(value, CultureInfo.InvariantCulture));

    private static YamlMap Selector(Context c, string? slot)
    {
        // Never the version: a Deployment's selector is immutable, and the next version must update the same object.
        var labels = new YamlMap { { "app.kubernetes.io/name", c.Server.Name }, { "app.kubernetes.io/part-of", c.Deployment.Name } };
        if (slot is not null)
        {
            labels.Add(SlotLabel, slot);
        }

        return labels;
    }

    private static YamlMap Labels(Context c, string? slot)
    {
        var labels = Selector(c, slot);
        labels.Add("app.kubernetes.io/version", c.Server.Version);
        labels.Add("app.kubernetes.io/managed-by", "kiln");
        return labels;
    }

    private static YamlMap Metadata(Context c, string name, string? slot, bool annotations = true)
    {
        var metadata = new YamlMap { { "name", name } };
        metadata.Add("namespace", c.Deployment.Namespace);
        metadata.Add("labels", Labels(c, slot));
        if (annotations)
        {
            metadata.Add("annotations", Annotations(c));
        }

        return metadata;
    }

    /// <summary>What the pod cannot say about itself in Kubernetes terms, and the link back to the spec.</summary>
    private static YamlMap Annotations(Context c)
    {
        var annotations = new YamlMap
        {
            { ManifestDigestAnnotation, c.Image.ManifestContentDigest.ToString() },
            { AnnotationPrefix + "image", c.Server.Reference },
            { AnnotationPrefix + "image-digest", c.Image.Digest.ToString() },
            { AnnotationPrefix + "spec", c.Server.SpecType },
        };
        if (c.Server.Limits.OpenFiles is { } openFiles)
        {
            // Kubernetes has no per-pod rlimit field: the runtime's default applies, and this records what the spec asked for.
            annotations.Add(AnnotationPrefix + "open-files", openFiles.ToString(CultureInfo.InvariantCulture));
        }

        if (c.Server.Limits.Processes is { } processes)
        {
            annotations.Add(AnnotationPrefix + "processes", processes.ToString(CultureInfo.InvariantCulture));
        }

        if (!c.Server.Volumes.IsEmpty)
        {
            annotations.Add(AnnotationPrefix + "writable-volumes", string.Join(",", c.Server.Volumes));
        }

        return annotations;
    }

    private static YamlMap Workload(Context c, string apiVersion, string kind, string name, string? slot, YamlMap? strategy)
    {
        var spec = new YamlMap
        {
            { "replicas", c.Component.Replicas },
            { "revisionHistoryLimit", 10 },
            { "selector", new YamlMap { { "matchLabels", Selector(c, slot) } } },
        };
        spec.Add("strategy", strategy);
        spec.Add("template", new YamlMap
        {
            { "metadata", new YamlMap { { "labels", Labels(c, slot) }, { "annotations", Annotations(c) } } },
            { "spec", PodSpec(c) },
        });
        return new YamlMap { { "apiVersion", apiVersion }, { "kind", kind }, { "metadata", Metadata(c, name, slot) }, { "spec", spec } };
    }

    private static YamlMap PodSpec(Context c)
    {
        var account = c.Server.Account;
        var nonRoot = account.Uid != 0;
        var pod = new YamlMap
        {
            // The image is the whole server: it needs neither the API server's token nor service environment variables.
            { "automountServiceAccountToken", false },
            { "enableServiceLinks", false },
            { "securityContext", new YamlMap
                {
                    { "runAsNonRoot", nonRoot },
                    { "runAsUser", account.Uid },
                    { "runAsGroup", account.Gid },
                    { "fsGroup", account.Gid },
                    { "seccompProfile", new YamlMap { { "type", "RuntimeDefault" } } },
                }
            },
            { "containers", new YamlSeq([Container(c, nonRoot)]) },
        };

        var volumes = new List<YamlNode>();
        for (var i = 0; i < c.Server.Volumes.Length; i++)
        {
            volumes.Add(new YamlMap { { "name", $"writable-{i}" }, { "emptyDir", new YamlMap() } });
        }

        foreach (var (secret, i) in FileSecrets(c))
        {
            var (secretName, key) = Binding(c, secret);
            volumes.Add(new YamlMap
            {
                { "name", $"secret-{i}" },
                { "secret", new YamlMap
                    {
                        { "secretName", secretName },
                        { "items", new YamlSeq([new YamlMap { { "key", key }, { "path", FileName(secret.Path!) } }]) },
                        { "defaultMode", 0x124 }, // 0444: readable by the non-root account, writable by nobody
                    }
                },
            });
        }

        if (volumes.Count > 0)
        {
            pod.Add("volumes", new YamlSeq(volumes));
        }

        return pod;
    }

    private static IEnumerable<(SecretReference Secret, int Index)> FileSecrets(Context c) =>
        c.Server.Secrets.Where(s => !string.IsNullOrEmpty(s.Path)).Select((s, i) => (s, i));

    private static string FileName(string path) => path.TrimEnd('/')[(path.TrimEnd('/').LastIndexOf('/') + 1)..];

    private static (string SecretName, string Key) Binding(Context c, SecretReference secret) =>
        c.Component.SecretBindings.FirstOrDefault(b => b.Name == secret.Name) is { } binding ? (binding.SecretName, binding.Key) : (secret.Name, "value");

    private static YamlMap Container(Context c, bool nonRoot)
    {
        var server = c.Server;
        var container = new YamlMap
        {
            { "name", server.Name.Replace('_', '-').Replace('.', '-') },
            { "image", c.ImageReference },
            { "imagePullPolicy", "IfNotPresent" },
        };

        if (!server.Ports.IsEmpty)
        {
            container.Add("ports", new YamlSeq([.. server.Ports.Select(p =>
            {
                var port = new YamlMap();
                port.Add("name", p.Name);
                port.Add("containerPort", p.Number);
                port.Add("protocol", p.Protocol == Protocol.Udp ? "UDP" : "TCP");
                return (YamlNode)port;
            })]));
        }

        var environment = server.Secrets.Where(s => !string.IsNullOrEmpty(s.EnvironmentVariable)).ToList();
        if (environment.Count > 0)
        {
            container.Add("env", new YamlSeq([.. environment.Select(s =>
            {
                var (secretName, key) = Binding(c, s);
                return (YamlNode)new YamlMap
                {
                    { "name", s.EnvironmentVariable },
                    { "valueFrom", new YamlMap { { "secretKeyRef", new YamlMap { { "name", secretName }, { "key", key } } } } },
                };
            })]));
        }

        if (c.Component.Resources is { } resources)
        {
            var requests = new YamlMap { { "cpu", resources.CpuRequest }, { "memory", resources.MemoryRequest } };
            var limits = new YamlMap();
            limits.Add("cpu", resources.CpuLimit);
            limits.Add("memory", resources.MemoryLimit);
            var section = new YamlMap { { "requests", requests } };
            if (limits.Count > 0)
            {
                section.Add("limits", limits);
            }

            container.Add("resources", section);
        }

        if (server.Health is { } health)
        {
            container.Add("readinessProbe", Probe(health));
            container.Add("livenessProbe", Probe(health));
        }

        container.Add("securityContext", new YamlMap
        {
            { "allowPrivilegeEscalation", false },
            { "privileged", false },
            { "readOnlyRootFilesystem", true },
            { "runAsNonRoot", nonRoot },
            { "runAsUser", server.Account.Uid },
            { "runAsGroup", server.Account.Gid },
            { "capabilities", new YamlMap { { "drop", new YamlSeq([new YamlString("ALL")]) } } },
            { "seccompProfile", new YamlMap { { "type", "RuntimeDefault" } } },
        });

        var mounts = new List<YamlNode>();
        for (var i = 0; i < server.Volumes.Length; i++)
        {
            mounts.Add(new YamlMap { { "name", $"writable-{i}" }, { "mountPath", server.Volumes[i] } });
        }

        foreach (var (secret, i) in FileSecrets(c))
        {
            mounts.Add(new YamlMap { { "name", $"secret-{i}" }, { "mountPath", secret.Path }, { "subPath", FileName(secret.Path!) }, { "readOnly", true } });
        }

        if (mounts.Count > 0)
        {
            container.Add("volumeMounts", new YamlSeq(mounts));
        }

        return container;
    }

    private static YamlMap Probe(HealthCheck health)
    {
        var probe = new YamlMap();
        switch (health)
        {
            case HttpHealthCheck http:
                probe.Add("httpGet", new YamlMap { { "path", http.Path }, { "port", http.Port } });
                break;
            case CommandHealthCheck command:
                probe.Add("exec", new YamlMap { { "command", new YamlSeq([.. command.Argv.Select(a => (YamlNode)new YamlString(a))]) } });
                break;
        }

        probe.Add("initialDelaySeconds", Seconds(health.StartPeriod, minimum: 0));
        probe.Add("periodSeconds", Seconds(health.Interval, minimum: 1));
        probe.Add("timeoutSeconds", Seconds(health.Timeout, minimum: 1));
        probe.Add("failureThreshold", health.Retries);
        return probe;
    }

    private static long Seconds(TimeSpan value, int minimum) => Math.Max(minimum, (long)Math.Ceiling(value.TotalSeconds));

    private static YamlMap Service(Context c, string name, string? slot)
    {
        var ports = c.Component.ServicePorts;
        var spec = new YamlMap
        {
            { "type", c.Component.Exposure?.LoadBalancer == true ? "LoadBalancer" : "ClusterIP" },
            { "selector", Selector(c, slot) },
            { "ports", new YamlSeq([.. ports.Select(p =>
                {
                    var protocol = c.Server.Ports.FirstOrDefault(s => s.Number == p.TargetPort)?.Protocol == Protocol.Udp ? "UDP" : "TCP";
                    return (YamlNode)new YamlMap
                    {
                        // Kubernetes requires names once a service has more than one port.
                        { "name", p.Name ?? $"{protocol.ToLowerInvariant()}-{p.Port}" },
                        { "port", p.Port },
                        { "targetPort", p.TargetPort },
                        { "protocol", protocol },
                    };
                })])
            },
        };
        return new YamlMap { { "apiVersion", "v1" }, { "kind", "Service" }, { "metadata", Metadata(c, name, slot: null) }, { "spec", spec } };
    }

    private static YamlMap Budget(Context c, string name, string? slot)
    {
        var spec = new YamlMap { { "selector", new YamlMap { { "matchLabels", Selector(c, slot) } } } };
        if (c.Component.DisruptionBudget.MinAvailableCount is { } min)
        {
            spec.Add("minAvailable", min);
        }
        else
        {
            spec.Add("maxUnavailable", c.Component.DisruptionBudget.MaxUnavailableCount ?? 1);
        }

        return new YamlMap { { "apiVersion", "policy/v1" }, { "kind", "PodDisruptionBudget" }, { "metadata", Metadata(c, name, slot, annotations: false) }, { "spec", spec } };
    }
}
