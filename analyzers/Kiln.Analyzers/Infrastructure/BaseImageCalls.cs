using System;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Infrastructure;

/// <summary>Recognises the BaseImage factory calls whose arguments the pinning rules read.</summary>
internal static class BaseImageCalls
{
    /// <summary>
    /// Runs <paramref name="action"/> on each registry base in a spec (<c>BaseImage.Registry("…")</c>,
    /// <c>new RegistryBase("…", null)</c>, <c>… with { Reference = "…" }</c>) whose reference is known, with the
    /// reference and the location of the expression that gives it.
    /// </summary>
    public static void RegisterRegistryReferenceAction(
        CompilationStartAnalysisContext context,
        SpecTypes types,
        Action<SpecOperationContext, string, Location> action) =>
        SpecActions.RegisterOperationAction(
            context,
            types,
            new SyntaxFilter("Registry", "RegistryBase", "Reference"),
            operationContext =>
            {
                if (TryGetRegistryReference(operationContext.Operation, types, out var reference, out var location))
                {
                    action(operationContext, reference, location);
                }
            },
            OperationKind.Invocation,
            OperationKind.ObjectCreation,
            OperationKind.With);

    /// <summary>Runs <paramref name="action"/> on each Debian base in a spec (<c>BaseImage.Debian(suite, packages)</c>, <c>new DebianBase(…)</c>, <c>with</c>).</summary>
    public static void RegisterDebianAction(
        CompilationStartAnalysisContext context,
        SpecTypes types,
        Action<SpecOperationContext, DebianCall> action) =>
        SpecActions.RegisterOperationAction(
            context,
            types,
            new SyntaxFilter("Debian", "DebianBase", "Suite", "Packages"),
            operationContext =>
            {
                if (TryGetDebian(operationContext.Operation, types, out var debian))
                {
                    action(operationContext, debian);
                }
            },
            OperationKind.Invocation,
            OperationKind.ObjectCreation,
            OperationKind.With);

    /// <summary>A registry base whose reference is known at compile time.</summary>
    public static bool TryGetRegistryReference(IOperation operation, SpecTypes types, out string reference, out Location location)
    {
        var argument = operation switch
        {
            IInvocationOperation { TargetMethod.Name: "Registry" } invocation when SpecTypes.Is(invocation.TargetMethod.ContainingType, types.BaseImage)
                && !operation.IsReplacedByWith("Reference") => invocation.Arguments.Argument("reference"),
            IObjectCreationOperation creation when SpecTypes.Is(creation.Type, types.RegistryBase) && !operation.IsReplacedByWith("Reference") =>
                creation.Arguments.Argument("Reference"),
            IWithOperation with when SpecTypes.Is(with.Type, types.RegistryBase) => with.Initializer.InitializedMember("Reference"),
            _ => null,
        };

        if (argument is not null && argument.TryGetString(out reference))
        {
            location = argument.Syntax.GetLocation();
            return true;
        }

        reference = string.Empty;
        location = Location.None;
        return false;
    }

    /// <summary>A Debian base: its suite and packages as written (either may be null when not given or replaced elsewhere).</summary>
    public static bool TryGetDebian(IOperation operation, SpecTypes types, out DebianCall debian)
    {
        switch (operation)
        {
            case IInvocationOperation { TargetMethod.Name: "Debian" } call when SpecTypes.Is(call.TargetMethod.ContainingType, types.BaseImage):
                debian = new DebianCall(operation, Unless(operation, "Suite", call.Arguments.Argument("suite")), Unless(operation, "Packages", call.Arguments.Argument("packages")));
                return true;
            case IObjectCreationOperation creation when SpecTypes.Is(creation.Type, types.DebianBase):
                debian = new DebianCall(operation, Unless(operation, "Suite", creation.Arguments.Argument("Suite")), Unless(operation, "Packages", creation.Arguments.Argument("Packages")));
                return true;
            case IWithOperation with when SpecTypes.Is(with.Type, types.DebianBase):
                debian = new DebianCall(operation, with.Initializer.InitializedMember("Suite"), with.Initializer.InitializedMember("Packages"));
                return true;
            default:
                debian = default;
                return false;
        }
    }

    /// <summary>The argument, unless a <c>with</c> around the call replaces the member it sets (the <c>with</c> is judged instead).</summary>
    private static IOperation? Unless(IOperation operation, string member, IOperation? argument) =>
        operation.IsReplacedByWith(member) ? null : argument;
}

/// <summary>A Debian base as a spec writes it.</summary>
internal readonly struct DebianCall
{
    public DebianCall(IOperation operation, IOperation? suite, IOperation? packages)
    {
        Operation = operation;
        Suite = suite;
        Packages = packages;
    }

    public IOperation Operation { get; }

    public IOperation? Suite { get; }

    public IOperation? Packages { get; }
}
