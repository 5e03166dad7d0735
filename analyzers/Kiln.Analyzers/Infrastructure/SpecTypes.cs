using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;

namespace Kiln.Analyzers.Infrastructure;

/// <summary>
/// The Kiln.Spec types the rules look for, resolved once per compilation and shared by every analyzer.
/// <see cref="TryGet"/> fails when Kiln.Spec is not referenced, and the analyzers then register nothing.
/// </summary>
internal sealed class SpecTypes
{
    private static readonly ConditionalWeakTable<Compilation, SpecTypes?[]> Cache = new();

    private SpecTypes(Compilation compilation, INamedTypeSymbol serverSpec)
    {
        Compilation = compilation;
        ServerSpec = serverSpec;
        // Null against a Kiln.Spec older than deployments; the deployment rules then find no spec to check.
        DeploymentSpec = compilation.GetTypeByMetadataName("Kiln.Spec.DeploymentSpec");
        BaseImage = compilation.GetTypeByMetadataName("Kiln.Spec.BaseImage");
        RegistryBase = compilation.GetTypeByMetadataName("Kiln.Spec.RegistryBase");
        DebianBase = compilation.GetTypeByMetadataName("Kiln.Spec.DebianBase");
        Account = compilation.GetTypeByMetadataName("Kiln.Spec.Account");
        Entrypoint = compilation.GetTypeByMetadataName("Kiln.Spec.Entrypoint");
        Port = compilation.GetTypeByMetadataName("Kiln.Spec.Port");
        Layer = compilation.GetTypeByMetadataName("Kiln.Spec.Layer");
        HealthCheck = compilation.GetTypeByMetadataName("Kiln.Spec.HealthCheck");
        FileMode = compilation.GetTypeByMetadataName("Kiln.Spec.FilePermissions");
        EnvironmentVariable = compilation.GetTypeByMetadataName("Kiln.Spec.EnvironmentVariable");
        SecretReference = compilation.GetTypeByMetadataName("Kiln.Spec.SecretReference");
    }

    public Compilation Compilation { get; }

    public INamedTypeSymbol ServerSpec { get; }

    public INamedTypeSymbol? DeploymentSpec { get; }

    public INamedTypeSymbol? BaseImage { get; }

    /// <summary>The record <c>BaseImage.Registry</c> creates, which a spec may also create (or change with <c>with</c>) itself.</summary>
    public INamedTypeSymbol? RegistryBase { get; }

    /// <summary>The record <c>BaseImage.Debian</c> creates.</summary>
    public INamedTypeSymbol? DebianBase { get; }

    public INamedTypeSymbol? Account { get; }

    public INamedTypeSymbol? Entrypoint { get; }

    public INamedTypeSymbol? Port { get; }

    public INamedTypeSymbol? Layer { get; }

    public INamedTypeSymbol? HealthCheck { get; }

    public INamedTypeSymbol? FileMode { get; }

    public INamedTypeSymbol? EnvironmentVariable { get; }

    public INamedTypeSymbol? SecretReference { get; }

    /// <summary>The helper operations each overridden getter of a spec uses (see SpecActions), followed once and shared by every rule.</summary>
    internal ConcurrentDictionary<SyntaxNode, ImmutableArray<FollowedOperation>> FollowedHelpers { get; } = new();

    /// <summary>The spec types of <paramref name="compilation"/>, or <see langword="false"/> when it does not reference Kiln.Spec.</summary>
    public static bool TryGet(Compilation compilation, out SpecTypes types)
    {
        var box = Cache.GetValue(compilation, static c =>
        {
            var serverSpec = c.GetTypeByMetadataName("Kiln.Spec.ServerSpec");
            return [serverSpec is null ? null : new SpecTypes(c, serverSpec)];
        });
        types = box[0]!;
        return types is not null;
    }

    /// <summary>Whether <paramref name="type"/> is a user's spec: a class deriving from ServerSpec or DeploymentSpec.</summary>
    public bool IsSpec(ITypeSymbol? type) => IsServerSpec(type) || IsDeploymentSpec(type);

    public bool IsServerSpec(ITypeSymbol? type) => DerivesFrom(type, ServerSpec);

    public bool IsDeploymentSpec(ITypeSymbol? type) => DeploymentSpec is not null && DerivesFrom(type, DeploymentSpec);

    /// <summary>Whether <paramref name="property"/> is, or overrides, the ServerSpec property called <paramref name="name"/>.</summary>
    public bool IsServerSpecProperty(IPropertySymbol property, string name)
    {
        if (property.Name != name)
        {
            return false;
        }

        for (var p = property; p is not null; p = p.OverriddenProperty)
        {
            if (SymbolEqualityComparer.Default.Equals(p.ContainingType, ServerSpec))
            {
                return true;
            }
        }

        return false;
    }

    public static bool Is(ISymbol? symbol, INamedTypeSymbol? type) =>
        type is not null && SymbolEqualityComparer.Default.Equals(symbol?.OriginalDefinition, type);

    private static bool DerivesFrom(ITypeSymbol? type, INamedTypeSymbol baseType)
    {
        if (type is not { TypeKind: TypeKind.Class })
        {
            return false;
        }

        for (var b = type.BaseType; b is not null; b = b.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(b, baseType))
            {
                return true;
            }
        }

        return false;
    }
}
