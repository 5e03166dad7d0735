using System.Collections.Immutable;
using System.Reflection;
using Kiln.Engine.Diagnostics;
using Kiln.Spec;

namespace Kiln.Engine.Evaluation;

/// <summary>
/// Finds every <see cref="DeploymentSpec"/> of the spec assembly, reads it once and matches each component to the
/// server spec it names. Spec code that throws becomes KILN2001 at the getter's line, as for servers.
/// </summary>
internal static class DeploymentEvaluator
{
    public static ImmutableArray<ResolvedDeployment> Resolve(Assembly assembly, IEnumerable<Type> types, IReadOnlyList<ResolvedServer> servers, SourceLocator locator, DiagnosticBag diagnostics, EvaluationProgress progress)
    {
        var byType = servers.ToDictionary(s => s.SpecType, StringComparer.Ordinal);
        var deployments = ImmutableArray.CreateBuilder<ResolvedDeployment>();
        foreach (var type in SpecReader<DeploymentSpec>.SpecTypes(types))
        {
            if (Resolve(type, assembly, byType, locator, diagnostics, progress) is { } deployment)
            {
                deployments.Add(deployment);
            }
        }

        return deployments.ToImmutable();
    }

    private static ResolvedDeployment? Resolve(Type type, Assembly assembly, Dictionary<string, ResolvedServer> servers, SourceLocator locator, DiagnosticBag diagnostics, EvaluationProgress progress)
    {
        if (SpecReader<DeploymentSpec>.Create(type, "Deployment spec", locator, diagnostics, progress) is not { } reader)
        {
            return null;
        }

        var name = reader.Read(nameof(DeploymentSpec.Name), s => s.Name) ?? "";
        var ns = reader.Read(nameof(DeploymentSpec.Namespace), s => s.Namespace);
        var components = reader.Read(nameof(DeploymentSpec.Components), s => (ImmutableArray<Component>?)s.Components);
        if (reader.Failed)
        {
            return null;
        }

        var typeLocation = reader.TypeLocation;
        var componentsLocation = reader.Locations.GetValueOrDefault(nameof(DeploymentSpec.Components)) ?? typeLocation;
        var resolved = ImmutableArray.CreateBuilder<ResolvedComponent>();
        foreach (var (component, index) in (components is { IsDefault: false } c ? c : []).Select((c, i) => (c, i)))
        {
            if (component?.Server is not { } serverType)
            {
                diagnostics.Error(DiagnosticCodes.ComponentNotServerSpec, $"Deployment '{name}' ({type.FullName}): Components[{index}] is null or names no server type. Use Component.Of<TServer>().", componentsLocation);
                continue;
            }

            // Only this assembly's specs are evaluated and built; a type from elsewhere has no image to deploy.
            if (serverType.Assembly != assembly || serverType.FullName is not { } fullName || !servers.TryGetValue(fullName, out var server))
            {
                diagnostics.Error(DiagnosticCodes.ComponentNotServerSpec, $"Deployment '{name}' ({type.FullName}): Components[{index}] names '{serverType.FullName}', which is not a concrete ServerSpec of this assembly, so there is no image to deploy. Name a ServerSpec class declared in this project.", componentsLocation);
                continue;
            }

            resolved.Add(new ResolvedComponent
            {
                Server = server,
                Replicas = component.Replicas,
                Resources = component.Resources,
                Rollout = component.Rollout ?? RolloutPolicy.RollingUpdate(),
                Exposure = component.Exposure,
                DisruptionBudget = component.DisruptionBudget ?? DisruptionBudget.MaxUnavailable(1),
                SecretBindings = component.SecretBindings.IsDefault ? [] : component.SecretBindings,
            });
        }

        return new ResolvedDeployment
        {
            SpecType = type.FullName!,
            Location = typeLocation,
            PropertyLocations = reader.Locations,
            Name = name,
            Namespace = ns,
            Components = resolved.ToImmutable(),
        };
    }
}
