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
    public static ImmutableArray<ResolvedDeployment> Resolve(Assembly assembly, IReadOnlyList<ResolvedServer> servers, SourceLocator locator, DiagnosticBag diagnostics, EvaluationProgress? progress = null)
    {
        var byType = servers.ToDictionary(s => s.SpecType, StringComparer.Ordinal);
        var deployments = ImmutableArray.CreateBuilder<ResolvedDeployment>();
        foreach (var type in assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false, IsGenericTypeDefinition: false } && typeof(DeploymentSpec).IsAssignableFrom(t))
            .OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            if (Resolve(type, assembly, byType, locator, diagnostics, progress ?? new EvaluationProgress()) is { } deployment)
            {
                deployments.Add(deployment);
            }
        }

        return deployments.ToImmutable();
    }

    private static ResolvedDeployment? Resolve(Type type, Assembly assembly, Dictionary<string, ResolvedServer> servers, SourceLocator locator, DiagnosticBag diagnostics, EvaluationProgress progress)
    {
        var typeLocation = locator.Locate(type);
        if (type.GetConstructor(Type.EmptyTypes) is null)
        {
            diagnostics.Error(DiagnosticCodes.SpecNotConstructible, $"Deployment spec '{type.FullName}' has no public parameterless constructor. Kiln creates specs itself; give it one.", typeLocation);
            return null;
        }

        DeploymentSpec spec;
        try
        {
            progress.Enter(type.FullName!, "running its constructor", typeLocation);
            spec = (DeploymentSpec)Activator.CreateInstance(type)!;
        }
        catch (TargetInvocationException e)
        {
            diagnostics.Error(DiagnosticCodes.SpecThrew, $"Deployment spec '{type.FullName}' threw {SpecEvaluator.Describe(e.InnerException ?? e)} in its constructor. Spec code must not fail; fix the constructor.", typeLocation);
            return null;
        }

        var failed = false;
        var locations = ImmutableDictionary.CreateBuilder<string, SourceLocation>();
        T? Read<T>(string property, Func<DeploymentSpec, T?> read)
        {
            if (locator.Locate(type, property) is { } location)
            {
                locations[property] = location;
            }

            try
            {
                progress.Enter(type.FullName!, $"reading {property}", locations.GetValueOrDefault(property) ?? typeLocation);
                return read(spec);
            }
            catch (Exception e)
            {
                // Spec code is user code: whatever it throws is a finding about the spec, not a crash of Kiln.
                failed = true;
                diagnostics.Error(DiagnosticCodes.SpecThrew, $"Deployment spec '{type.FullName}' threw {SpecEvaluator.Describe(e)} while reading {property}. Spec code must compute its values without failing; fix {property}.", locations.GetValueOrDefault(property) ?? typeLocation);
                return default;
            }
        }

        var name = Read(nameof(DeploymentSpec.Name), s => s.Name) ?? "";
        var ns = Read(nameof(DeploymentSpec.Namespace), s => s.Namespace);
        var components = Read(nameof(DeploymentSpec.Components), s => (ImmutableArray<Component>?)s.Components);
        if (failed)
        {
            return null;
        }

        var componentsLocation = locations.GetValueOrDefault(nameof(DeploymentSpec.Components)) ?? typeLocation;
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
            PropertyLocations = locations.ToImmutable(),
            Name = name,
            Namespace = ns,
            Components = resolved.ToImmutable(),
        };
    }
}
