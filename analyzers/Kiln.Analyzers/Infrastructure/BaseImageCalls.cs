using System;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Infrastructure;

/// <summary>Recognises the BaseImage factory calls whose arguments the pinning rules read.</summary>
internal static class BaseImageCalls
{
    /// <summary>Runs <paramref name="action"/> on each <c>BaseImage.Registry("…")</c> call in a spec, with the reference and the argument's location.</summary>
    public static void RegisterRegistryReferenceAction(
        CompilationStartAnalysisContext context,
        SpecTypes types,
        Action<SpecOperationContext, string, Location> action) =>
        SpecActions.RegisterOperationAction(
            context,
            types,
            new SyntaxFilter("Registry"),
            operationContext =>
            {
                if (TryGetRegistryReference(operationContext.Operation, types, out var reference, out var location))
                {
                    action(operationContext, reference, location);
                }
            },
            OperationKind.Invocation);

    /// <summary>Runs <paramref name="action"/> on each <c>BaseImage.Debian(suite, packages)</c> call in a spec.</summary>
    public static void RegisterDebianAction(
        CompilationStartAnalysisContext context,
        SpecTypes types,
        Action<SpecOperationContext, IInvocationOperation> action) =>
        SpecActions.RegisterOperationAction(
            context,
            types,
            new SyntaxFilter("Debian"),
            operationContext =>
            {
                if (IsDebian(operationContext.Operation, types, out var debian))
                {
                    action(operationContext, debian);
                }
            },
            OperationKind.Invocation);

    /// <summary>A <c>BaseImage.Registry("…")</c> call whose reference is a compile-time constant.</summary>
    public static bool TryGetRegistryReference(IOperation operation, SpecTypes types, out string reference, out Location location)
    {
        if (operation is IInvocationOperation { TargetMethod.Name: "Registry" } invocation
            && SpecTypes.Is(invocation.TargetMethod.ContainingType, types.BaseImage)
            && invocation.Arguments.Argument("reference") is { } argument
            && argument.TryGetString(out reference))
        {
            location = argument.Syntax.GetLocation();
            return true;
        }

        reference = string.Empty;
        location = Location.None;
        return false;
    }

    /// <summary>A <c>BaseImage.Debian(suite, packages)</c> call.</summary>
    public static bool IsDebian(IOperation operation, SpecTypes types, out IInvocationOperation invocation)
    {
        if (operation is IInvocationOperation { TargetMethod.Name: "Debian" } call && SpecTypes.Is(call.TargetMethod.ContainingType, types.BaseImage))
        {
            invocation = call;
            return true;
        }

        invocation = null!;
        return false;
    }
}
