using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Infrastructure;

/// <summary>
/// Registrations scoped to spec types, so that the rest of a user's code costs nothing. The spec-type test runs once
/// per type. Within a spec, rules see operations, but operations are built only for the members whose tokens pass
/// the rule's <see cref="SyntaxFilter"/>: registering operation actions would make the driver bind every member of
/// every spec a second time (once for analysis, once for emit), which costs far more than the rules themselves.
/// </summary>
internal static class SpecActions
{
    private static readonly ImmutableArray<SyntaxKind> MemberKinds =
    [
        SyntaxKind.MethodDeclaration,
        SyntaxKind.ConstructorDeclaration,
        SyntaxKind.DestructorDeclaration,
        SyntaxKind.OperatorDeclaration,
        SyntaxKind.ConversionOperatorDeclaration,
        SyntaxKind.PropertyDeclaration,
        SyntaxKind.IndexerDeclaration,
        SyntaxKind.EventDeclaration,
        SyntaxKind.FieldDeclaration,
        SyntaxKind.EventFieldDeclaration,
    ];

    /// <summary>
    /// Runs <paramref name="action"/> on operations of the given kinds inside ServerSpec/DeploymentSpec types only,
    /// in the members that pass <paramref name="filter"/>.
    /// </summary>
    public static void RegisterOperationAction(
        CompilationStartAnalysisContext context,
        SpecTypes types,
        SyntaxFilter filter,
        Action<SpecOperationContext> action,
        params OperationKind[] kinds) =>
        RegisterOperationAction(context, types.IsSpec, filter, action, kinds);

    /// <summary>As <see cref="RegisterOperationAction(CompilationStartAnalysisContext, SpecTypes, SyntaxFilter, Action{SpecOperationContext}, OperationKind[])"/>, in the types <paramref name="isScope"/> accepts.</summary>
    public static void RegisterOperationAction(
        CompilationStartAnalysisContext context,
        Func<INamedTypeSymbol, bool> isScope,
        SyntaxFilter filter,
        Action<SpecOperationContext> action,
        params OperationKind[] kinds)
    {
        var wanted = ImmutableHashSet.Create(kinds);
        RegisterMemberAction(context, isScope, (nodeContext, member) =>
        {
            if (!filter.Matches(member))
            {
                return;
            }

            foreach (var (root, containingSymbol) in CodeBlocks(member, nodeContext.SemanticModel, nodeContext.CancellationToken))
            {
                foreach (var operation in root.DescendantsAndSelf())
                {
                    if (wanted.Contains(operation.Kind))
                    {
                        action(new SpecOperationContext(operation, containingSymbol, nodeContext.Options, nodeContext.ReportDiagnostic, nodeContext.CancellationToken));
                    }
                }
            }
        });
    }

    /// <summary>
    /// Runs <paramref name="action"/> on each value returned by a server spec's override of the ServerSpec property
    /// <paramref name="propertyName"/> (<c>public override string Version => "1.0.0";</c> gives the literal).
    /// </summary>
    public static void RegisterPropertyValueAction(
        CompilationStartAnalysisContext context,
        SpecTypes types,
        string propertyName,
        Action<SpecOperationContext, IPropertySymbol, IOperation> action) =>
        RegisterMemberAction(context, types.IsServerSpec, (nodeContext, member) =>
        {
            if (member is not PropertyDeclarationSyntax declaration
                || declaration.Identifier.ValueText != propertyName
                || nodeContext.SemanticModel.GetDeclaredSymbol(declaration, nodeContext.CancellationToken) is not { } property
                || !types.IsServerSpecProperty(property, propertyName)
                || property.GetMethod is not { } getter)
            {
                return;
            }

            foreach (var (root, containingSymbol) in CodeBlocks(member, nodeContext.SemanticModel, nodeContext.CancellationToken))
            {
                if (SymbolEqualityComparer.Default.Equals(containingSymbol, getter))
                {
                    foreach (var value in ReturnedValues(root))
                    {
                        action(new SpecOperationContext(value, getter, nodeContext.Options, nodeContext.ReportDiagnostic, nodeContext.CancellationToken), property, value);
                    }
                }
            }
        });

    /// <summary>
    /// Reports <paramref name="rule"/> (with the value as its first argument) on each constant string a server spec's
    /// override of <paramref name="propertyName"/> returns that <paramref name="isValid"/> rejects.
    /// </summary>
    public static void RegisterStringPropertyCheck(
        CompilationStartAnalysisContext context,
        SpecTypes types,
        string propertyName,
        DiagnosticDescriptor rule,
        Func<string, bool> isValid) =>
        RegisterPropertyValueAction(context, types, propertyName, (blockContext, property, value) =>
        {
            if (value.TryGetString(out var text) && !isValid(text))
            {
                blockContext.ReportDiagnostic(Diagnostic.Create(rule, value.Syntax.GetLocation(), text));
            }
        });

    /// <summary>Runs <paramref name="action"/> on each member declaration of the types <paramref name="isScope"/> accepts (tested once a type).</summary>
    private static void RegisterMemberAction(
        CompilationStartAnalysisContext context,
        Func<INamedTypeSymbol, bool> isScope,
        Action<SyntaxNodeAnalysisContext, MemberDeclarationSyntax> action) =>
        context.RegisterSymbolStartAction(
            symbolStart =>
            {
                var type = (INamedTypeSymbol)symbolStart.Symbol;
                if (!isScope(type))
                {
                    return;
                }

                var declarations = type.DeclaringSyntaxReferences;
                symbolStart.RegisterSyntaxNodeAction(
                    nodeContext =>
                    {
                        var member = (MemberDeclarationSyntax)nodeContext.Node;
                        // Members of a nested type belong to that type's own scope.
                        if (member.Parent is { } parent && declarations.Any(d => d.SyntaxTree == parent.SyntaxTree && d.Span == parent.Span))
                        {
                            action(nodeContext, member);
                        }
                    },
                    MemberKinds);
            },
            SymbolKind.NamedType);

    /// <summary>The operation trees of a member's executable code, each with the symbol it belongs to (an accessor for accessor bodies).</summary>
    private static IEnumerable<(IOperation Root, ISymbol ContainingSymbol)> CodeBlocks(MemberDeclarationSyntax member, SemanticModel model, System.Threading.CancellationToken cancellationToken)
    {
        var blocks = new List<(SyntaxNode Node, SyntaxNode Declaration)>();
        switch (member)
        {
            case BaseMethodDeclarationSyntax method:
                blocks.Add((method, method));
                foreach (var parameter in method.ParameterList.Parameters)
                {
                    if (parameter.Default is { } defaultValue)
                    {
                        blocks.Add((defaultValue, parameter));
                    }
                }

                break;
            case BasePropertyDeclarationSyntax property:
                if (property is PropertyDeclarationSyntax { ExpressionBody: { } propertyBody })
                {
                    blocks.Add((propertyBody, property));
                }
                else if (property is IndexerDeclarationSyntax { ExpressionBody: { } indexerBody })
                {
                    blocks.Add((indexerBody, property));
                }

                if (property is PropertyDeclarationSyntax { Initializer: { } propertyInitializer })
                {
                    blocks.Add((propertyInitializer, property));
                }

                if (property.AccessorList is { } accessors)
                {
                    foreach (var accessor in accessors.Accessors)
                    {
                        blocks.Add((accessor, accessor));
                    }
                }

                if (property is IndexerDeclarationSyntax indexer)
                {
                    foreach (var parameter in indexer.ParameterList.Parameters)
                    {
                        if (parameter.Default is { } defaultValue)
                        {
                            blocks.Add((defaultValue, parameter));
                        }
                    }
                }

                break;
            case BaseFieldDeclarationSyntax field:
                foreach (var variable in field.Declaration.Variables)
                {
                    if (variable.Initializer is { } value)
                    {
                        blocks.Add((value, variable));
                    }
                }

                break;
        }

        foreach (var (node, declaration) in blocks)
        {
            if (model.GetOperation(node, cancellationToken) is not { } root
                || model.GetDeclaredSymbol(declaration, cancellationToken) is not { } symbol)
            {
                continue;
            }

            // An expression-bodied property or indexer is its getter's body.
            if (node is ArrowExpressionClauseSyntax && symbol is IPropertySymbol { GetMethod: { } getter })
            {
                symbol = getter;
            }

            yield return (root, symbol);
        }
    }

    private static IEnumerable<IOperation> ReturnedValues(IOperation root)
    {
        foreach (var operation in root.DescendantsAndSelf())
        {
            if (operation is IReturnOperation { ReturnedValue: { } value } && !operation.IsInsideFunction())
            {
                yield return value.WalkDownConversion();
            }
        }
    }
}
