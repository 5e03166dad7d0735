using System.Globalization;
using System.Text.RegularExpressions;
using Kiln.Engine.Diagnostics;
using Kiln.Spec;

namespace Kiln.Engine.Evaluation;

/// <summary>
/// Checks deployments against their servers and against what Kubernetes accepts, so that a rendered manifest is never
/// rejected by the API server or stuck in a rollout. Every problem is reported, not only the first (KILN2090–KILN2119).
/// </summary>
internal static partial class DeploymentValidator
{
    // RFC 1123 label: what Kubernetes accepts as a namespace and (with a leading letter, RFC 1035) as a Service name.
    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    [GeneratedRegex("^[a-z]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex ServiceNamePattern();

    // A count or a percentage, the two forms Kubernetes' IntOrString takes for maxSurge/maxUnavailable.
    [GeneratedRegex("^(0|[1-9][0-9]*)%?$")]
    private static partial Regex CountOrPercent();

    // The Kubernetes quantity forms Kiln accepts: a decimal with an optional SI or binary suffix.
    [GeneratedRegex("^(?<number>[0-9]+(\\.[0-9]+)?)(?<suffix>m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")]
    private static partial Regex Quantity();

    public static void Validate(IReadOnlyList<ResolvedDeployment> deployments, DiagnosticBag diagnostics)
    {
        foreach (var deployment in deployments)
        {
            Validate(deployment, diagnostics);
        }

        foreach (var group in deployments.GroupBy(d => d.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            foreach (var deployment in group.Skip(1))
            {
                diagnostics.Error(DiagnosticCodes.InvalidDeploymentName, $"Deployments {string.Join(", ", group.Select(d => d.SpecType))} are all named '{group.Key}'. Each deployment renders into deploy/<name>/; give each its own name.", deployment.LocationOf(nameof(DeploymentSpec.Name)));
            }
        }
    }

    private static void Validate(ResolvedDeployment d, DiagnosticBag bag)
    {
        void Error(string code, string property, string message) => bag.Error(code, $"Deployment '{d.Name}' ({d.SpecType}): {message}", d.LocationOf(property));
        const string components = nameof(DeploymentSpec.Components);

        if (d.Name.Length is 0 or > 63 || !DnsLabel().IsMatch(d.Name))
        {
            Error(DiagnosticCodes.InvalidDeploymentName, nameof(DeploymentSpec.Name), $"name '{d.Name}' is not a DNS label. Use 1–63 lower-case letters, digits and '-', starting and ending with a letter or digit (for example 'shop').");
        }

        if (d.Namespace is { } ns && (ns.Length > 63 || !DnsLabel().IsMatch(ns)))
        {
            Error(DiagnosticCodes.InvalidDeploymentName, nameof(DeploymentSpec.Namespace), $"namespace '{ns}' is not a DNS label. Use lower-case letters, digits and '-', or null for kubectl's current namespace.");
        }

        if (d.Components.IsEmpty)
        {
            Error(DiagnosticCodes.EmptyDeployment, components, "it has no components. List at least one: Component.Of<MyServer>(…).");
        }

        foreach (var group in d.Components.GroupBy(c => c.Server.SpecType, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            Error(DiagnosticCodes.DuplicateComponent, components, $"server '{group.Key}' is listed {group.Count()} times. A server is one component; set its Replicas instead.");
        }

        foreach (var c in d.Components)
        {
            ValidateComponent(c, (code, message) => Error(code, components, $"component '{c.Server.Name}': {message}"));
        }

        // One Service selects one component's pods; two components behind one name (or one port) would split traffic at random.
        foreach (var group in d.Components.Where(c => !c.ServicePorts.IsEmpty).DistinctBy(c => c.Server.SpecType).GroupBy(c => c.ServiceName, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            var shared = group
                .SelectMany(c => c.ServicePorts.Where(p => p is not null).Select(p => (p.Port, Component: c.Server.Name)))
                .GroupBy(x => x.Port)
                .Where(g => g.Count() > 1)
                .OrderBy(g => g.Key)
                .ToList();
            foreach (var port in shared)
            {
                Error(DiagnosticCodes.ServicePortConflict, components, $"components {string.Join(" and ", port.Select(x => $"'{x.Component}'"))} are all on port {port.Key} of service '{group.Key}'. Give each component its own service (Exposure's ServiceName).");
            }

            if (shared.Count == 0)
            {
                Error(DiagnosticCodes.ServicePortConflict, components, $"components {string.Join(" and ", group.Select(c => $"'{c.Server.Name}'"))} all use service '{group.Key}'. A Service selects the pods of one component; give each component its own service name.");
            }
        }
    }

    private static void ValidateComponent(ResolvedComponent c, Action<string, string> error)
    {
        // The name and version become label values (app.kubernetes.io/name, /version), which Kubernetes caps at 63 characters.
        if (c.Server.Name.Length > 63 || c.Server.Version.Length > 63)
        {
            error(DiagnosticCodes.InvalidDeploymentName, $"server '{c.Server.Reference}' has a name or version longer than 63 characters, which cannot be a Kubernetes label value. Shorten it.");
        }

        if (c.Replicas < 0)
        {
            error(DiagnosticCodes.InvalidReplicas, $"replicas is {c.Replicas}; it must be 0 or more.");
        }

        switch (c.Rollout)
        {
            case RollingUpdatePolicy rolling:
                if (c.Server.Health is null)
                {
                    error(DiagnosticCodes.ComponentWithoutHealthCheck, $"server '{c.Server.SpecType}' declares no health check, but a rolling update replaces old instances as soon as new ones are ready — without a check a broken version replaces every working one. Override Health in the server spec.");
                }

                var surge = CountOrPercent().IsMatch(rolling.MaxSurge ?? "");
                var unavailable = CountOrPercent().IsMatch(rolling.MaxUnavailable ?? "");
                if (!surge || !unavailable || Percent(rolling.MaxSurge!) > 100 || Percent(rolling.MaxUnavailable!) > 100)
                {
                    error(DiagnosticCodes.InvalidRolloutPolicy, $"rolling update maxSurge '{rolling.MaxSurge}' / maxUnavailable '{rolling.MaxUnavailable}' must each be a count ('1') or a percentage up to 100 ('25%').");
                }
                else if (IsZero(rolling.MaxSurge!) && IsZero(rolling.MaxUnavailable!))
                {
                    error(DiagnosticCodes.InvalidRolloutPolicy, "rolling update has maxSurge and maxUnavailable both 0, so no instance can ever be replaced. Allow a surge ('1') or an unavailable instance.");
                }

                break;
            case BlueGreenPolicy when c.Server.Health is null:
                error(DiagnosticCodes.ComponentWithoutHealthCheck, $"server '{c.Server.SpecType}' declares no health check, but a blue/green switch needs ready instances to switch to. Override Health in the server spec.");
                break;
            case BlueGreenPolicy:
                break;
            default:
                error(DiagnosticCodes.InvalidRolloutPolicy, "the rollout policy is missing. Use RolloutPolicy.RollingUpdate() or RolloutPolicy.BlueGreen(slot).");
                break;
        }

        switch (c.DisruptionBudget)
        {
            case { MinAvailableCount: { } min } when c.Replicas > 0 && min >= c.Replicas:
                error(DiagnosticCodes.ReplicasBelowDisruptionBudget, $"replicas ({c.Replicas}) is not above the disruption budget's minAvailable ({min}): no instance may ever be evicted, so every node drain hangs. Raise replicas above {min} or lower minAvailable.");
                break;
            case { MinAvailableCount: < 0 }:
            case { MaxUnavailableCount: < 1 }:
                error(DiagnosticCodes.ReplicasBelowDisruptionBudget, "the disruption budget allows no instance to be taken down (maxUnavailable below 1 or a negative minAvailable), so every node drain hangs. Allow at least one.");
                break;
        }

        if (c.Resources is { } resources)
        {
            ValidateResources(resources, error);
        }

        ValidateExposure(c, error);

        var declared = c.Server.Secrets.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var binding in c.SecretBindings)
        {
            if (binding is null || !declared.Contains(binding.Name))
            {
                error(DiagnosticCodes.UnknownSecretReference, $"binds secret '{binding?.Name}', which server '{c.Server.SpecType}' does not declare ({(declared.Count == 0 ? "it declares none" : "it declares " + string.Join(", ", declared.Order(StringComparer.Ordinal)))}). Declare it in the server's Secrets or remove the binding.");
            }
            else if (binding.SecretName is not { Length: > 0 and <= 253 } || !DnsLabel().IsMatch(binding.SecretName.Replace(".", "-", StringComparison.Ordinal)) || string.IsNullOrEmpty(binding.Key))
            {
                error(DiagnosticCodes.UnknownSecretReference, $"binds secret '{binding.Name}' to Kubernetes Secret '{binding.SecretName}' key '{binding.Key}', which is not a valid Secret name and key.");
            }
        }

        foreach (var secret in c.Server.Secrets.Where(s => s.Name is not null && !c.SecretBindings.Any(b => b?.Name == s.Name)))
        {
            if (secret.Name.Length > 253 || !DnsLabel().IsMatch(secret.Name.Replace(".", "-", StringComparison.Ordinal)))
            {
                error(DiagnosticCodes.UnknownSecretReference, $"server secret '{secret.Name}' has no binding and its name is not a valid Kubernetes Secret name. Add SecretBindings = [new(\"{secret.Name}\", \"my-secret\")].");
            }
        }
    }

    private static void ValidateResources(Resources r, Action<string, string> error)
    {
        var values = new (string Name, string? Value, bool Required)[]
        {
            ("cpu request", r.CpuRequest, true), ("memory request", r.MemoryRequest, true), ("cpu limit", r.CpuLimit, false), ("memory limit", r.MemoryLimit, false),
        };
        var ok = true;
        foreach (var (name, value, required) in values)
        {
            if ((value is null && required) || (value is not null && Parse(value) is null))
            {
                ok = false;
                error(DiagnosticCodes.InvalidResources, $"{name} '{value}' is not a Kubernetes quantity. Use for example '250m' or '1' for cpu and '256Mi' or '1Gi' for memory.");
            }
        }

        if (ok && r.CpuLimit is not null && Parse(r.CpuLimit) < Parse(r.CpuRequest))
        {
            error(DiagnosticCodes.InvalidResources, $"cpu limit '{r.CpuLimit}' is below the request '{r.CpuRequest}', which Kubernetes rejects.");
        }

        if (ok && r.MemoryLimit is not null && Parse(r.MemoryLimit) < Parse(r.MemoryRequest))
        {
            error(DiagnosticCodes.InvalidResources, $"memory limit '{r.MemoryLimit}' is below the request '{r.MemoryRequest}', which Kubernetes rejects.");
        }
    }

    private static void ValidateExposure(ResolvedComponent c, Action<string, string> error)
    {
        if (!c.ServicePorts.IsEmpty && (c.ServiceName.Length > 63 || !ServiceNamePattern().IsMatch(c.ServiceName)))
        {
            error(DiagnosticCodes.InvalidExposure, $"service name '{c.ServiceName}' is not a DNS-1035 label (lower-case letters, digits and '-', starting with a letter). Set Exposure's ServiceName.");
        }

        if (c.Exposure is { } exposure && (exposure.Ports.IsDefaultOrEmpty))
        {
            error(DiagnosticCodes.InvalidExposure, "its exposure lists no ports. List at least one ServicePort, or leave Exposure null to expose every port the server declares.");
            return;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var port in c.ServicePorts)
        {
            if (port is null)
            {
                error(DiagnosticCodes.InvalidExposure, "its exposure has a null port.");
                continue;
            }

            if (port.Port is < 1 or > 65535 || port.TargetPort is < 1 or > 65535)
            {
                error(DiagnosticCodes.InvalidExposure, $"service port {port.Port} → {port.TargetPort} is outside 1–65535.");
            }
            else if (!c.Server.Ports.Any(p => p.Number == port.TargetPort))
            {
                error(DiagnosticCodes.InvalidExposure, $"service port {port.Port} forwards to {port.TargetPort}, which server '{c.Server.SpecType}' does not declare (it declares {(c.Server.Ports.IsEmpty ? "no ports" : string.Join(", ", c.Server.Ports))}). Declare the port in the server's Ports or forward to one it declares.");
            }

            if (port.Name is { } name && (name.Length > 15 || !ServiceNamePattern().IsMatch(name) || !names.Add(name)))
            {
                error(DiagnosticCodes.InvalidExposure, $"service port name '{name}' is invalid or repeated. Use a unique DNS-1035 label of at most 15 characters (for example 'http').");
            }
        }
    }

    private static int Percent(string value) => value.EndsWith('%') ? int.Parse(value[..^1], CultureInfo.InvariantCulture) : 0;

    private static bool IsZero(string value) => value.TrimEnd('%') == "0";

    /// <summary>The quantity's value in base units, or <see langword="null"/> when it is not one Kiln accepts.</summary>
    internal static decimal? Parse(string value)
    {
        var match = Quantity().Match(value);
        if (!match.Success || !decimal.TryParse(match.Groups["number"].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            return null;
        }

        decimal factor = match.Groups["suffix"].Value switch
        {
            "" => 1m,
            "m" => 0.001m,
            "k" => 1e3m,
            "M" => 1e6m,
            "G" => 1e9m,
            "T" => 1e12m,
            "P" => 1e15m,
            "E" => 1e18m,
            "Ki" => 1024m,
            "Mi" => 1024m * 1024,
            "Gi" => 1024m * 1024 * 1024,
            "Ti" => 1024m * 1024 * 1024 * 1024,
            "Pi" => 1024m * 1024 * 1024 * 1024 * 1024,
            _ => 1024m * 1024 * 1024 * 1024 * 1024 * 1024,
        };
        return number * factor;
    }
}
