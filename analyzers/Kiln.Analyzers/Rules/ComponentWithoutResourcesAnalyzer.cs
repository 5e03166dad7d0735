using System;
using System.Collections.Immutable;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KILN0013: a component of a DeploymentSpec whose expression sets no cpu/memory resources. The rule reads names, so
/// it also holds for helpers users write around the DSL: a component is an element of a collection (or the value a
/// member returns) that names a ServerSpec type (<c>Component.Of&lt;T&gt;(…)</c>, <c>new Component(typeof(T))</c>), and
/// its resources are any argument, initializer member or method in that element whose name contains <c>cpu</c>,
/// <c>memory</c> or <c>resources</c> (<c>resources: Resources.Of(…)</c>, <c>with { Resources = … }</c>).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ComponentWithoutResourcesAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.ComponentWithoutResources,
        "Deployment component has no cpu/memory resources",
        "Component '{0}' of deployment '{1}' declares no cpu or memory resources",
        Descriptors.Deployment,
        DiagnosticSeverity.Warning,
        "Without requests and limits the scheduler packs instances blindly and one instance can starve its neighbours; the rollout of a new version then behaves differently from the last one.");

    private static readonly string[] ResourceWords = ["cpu", "memory", "resources"];

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types)
    {
        if (types.DeploymentSpec is null)
        {
            return;
        }

        DeploymentComponents.Register(context, types, (operationContext, server, syntax) =>
        {
            // Only a component written out in one place can be judged; one built up in a variable is left to evaluation.
            if (ComponentExpression(syntax) is { } component && !MentionsResources(component))
            {
                operationContext.ReportDiagnostic(Diagnostic.Create(Rule, syntax.GetLocation(), server.Name, operationContext.ContainingSymbol.ContainingType?.Name));
            }
        });
    }

    private static SyntaxNode? ComponentExpression(SyntaxNode node)
    {
        for (var current = node; current.Parent is { } parent; current = parent)
        {
            switch (parent)
            {
                case ExpressionElementSyntax:
                case ArrowExpressionClauseSyntax:
                case ReturnStatementSyntax:
                case InitializerExpressionSyntax initializer when !initializer.IsKind(SyntaxKind.ObjectInitializerExpression):
                    return current;
                case StatementSyntax:
                case EqualsValueClauseSyntax:
                case MemberDeclarationSyntax:
                    return null;
            }
        }

        return null;
    }

    private static bool MentionsResources(SyntaxNode component)
    {
        foreach (var node in component.DescendantNodesAndSelf())
        {
            if (node is SimpleNameSyntax name)
            {
                foreach (var word in ResourceWords)
                {
                    if (name.Identifier.ValueText.IndexOf(word, StringComparison.OrdinalIgnoreCase) >= 0)
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }
}
