using System.Collections.Immutable;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KILN0009: the server runs as root (<c>Account.Root</c>, uid 0) or as no account (<c>Account => null</c>).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class RootAccountAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.RootAccount,
        "Server runs as root",
        "{0}; run the server as a non-root account such as Account.NonRoot(\"app\", 10001)",
        Descriptors.Security,
        DiagnosticSeverity.Warning,
        "A process running as uid 0 that is compromised can rewrite the instance it runs on: the image stops being what runs. A non-root account cannot change the root-owned files of its image.");

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types)
    {
        if (types.Account is null)
        {
            return;
        }

        SpecActions.RegisterOperationAction(
            context,
            types,
            new SyntaxFilter("Root", "NonRoot", "Uid") { ObjectCreations = true },
            operationContext =>
            {
                var operation = operationContext.Operation;
                if (operation.IsReplacedByWith("Uid"))
                {
                    // `Account.Root with { Uid = 1000 }` is not root; the `with` itself is judged below.
                    return;
                }

                var reason = operation switch
                {
                    IWithOperation with when SpecTypes.Is(with.Type, types.Account)
                        && with.Initializer.InitializedMember("Uid").TryGetInt(out var uid) && uid == 0 =>
                        "uid 0 is root",
                    IPropertyReferenceOperation { Property.Name: "Root" } root when SpecTypes.Is(root.Property.ContainingType, types.Account) =>
                        "Account.Root is uid 0",
                    IInvocationOperation { TargetMethod.Name: "NonRoot" } nonRoot when SpecTypes.Is(nonRoot.TargetMethod.ContainingType, types.Account)
                        && nonRoot.Arguments.Argument("uid").TryGetInt(out var uid) && uid == 0 =>
                        "uid 0 is root",
                    IObjectCreationOperation creation when SpecTypes.Is(creation.Type, types.Account)
                        && creation.Arguments.Argument("Uid").TryGetInt(out var uid) && uid == 0 =>
                        "uid 0 is root",
                    _ => null,
                };

                if (reason is not null)
                {
                    operationContext.ReportDiagnostic(Diagnostic.Create(Rule, operation.Syntax.GetLocation(), reason));
                }
            },
            OperationKind.PropertyReference,
            OperationKind.Invocation,
            OperationKind.ObjectCreation,
            OperationKind.With);

        SpecActions.RegisterPropertyValueAction(
            context,
            types,
            "Account",
            (blockContext, property, value) =>
            {
                if (value is { ConstantValue: { HasValue: true, Value: null } } or IDefaultValueOperation)
                {
                    blockContext.ReportDiagnostic(Diagnostic.Create(Rule, value.Syntax.GetLocation(), "The spec declares no account, so the runtime's default (root) applies"));
                }
            });
    }
}
