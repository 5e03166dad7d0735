using System.Collections.Immutable;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KILN0012: a DeploymentSpec names a server (by <c>typeof</c> or as a type argument) whose spec declares no
/// health check. Evaluation reports the same as the error KILN2093 for rolling and blue/green components.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class DeployedServerWithoutHealthCheckAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.DeployedServerWithoutHealthCheck,
        "Deployed server has no health check",
        "Server '{0}' is part of deployment '{1}' but declares no health check; override Health",
        Descriptors.Deployment,
        DiagnosticSeverity.Warning,
        "A rollout replaces old instances with new ones only as fast as the new ones prove healthy. Without a health check a broken version replaces every working instance.");

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types)
    {
        if (types.DeploymentSpec is null)
        {
            return;
        }

        DeploymentComponents.Register(context, types, (operationContext, server, syntax) =>
        {
            if (!HasHealthCheck(server, types))
            {
                operationContext.ReportDiagnostic(Diagnostic.Create(Rule, syntax.GetLocation(), server.Name, operationContext.ContainingSymbol.ContainingType?.Name));
            }
        });
    }

    /// <summary>Whether the most derived override of Health returns something other than null.</summary>
    private static bool HasHealthCheck(INamedTypeSymbol server, SpecTypes types)
    {
        for (var type = server; type is not null && !SymbolEqualityComparer.Default.Equals(type, types.ServerSpec); type = type.BaseType)
        {
            foreach (var member in type.GetMembers("Health"))
            {
                if (member is IPropertySymbol property && types.IsServerSpecProperty(property, "Health"))
                {
                    foreach (var reference in property.DeclaringSyntaxReferences)
                    {
                        if (reference.GetSyntax() is PropertyDeclarationSyntax { ExpressionBody.Expression: var body } && IsNull(body))
                        {
                            return false;
                        }
                    }

                    return true;
                }
            }
        }

        return false;
    }

    private static bool IsNull(ExpressionSyntax expression) =>
        expression.IsKind(SyntaxKind.NullLiteralExpression) || expression.IsKind(SyntaxKind.DefaultLiteralExpression);
}
