using System;
using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Infrastructure;

/// <summary>Registrations scoped to spec types, so that the rest of a user's code costs nothing.</summary>
internal static class SpecActions
{
    /// <summary>Runs <paramref name="action"/> on operations of the given kinds inside ServerSpec/DeploymentSpec types only.</summary>
    public static void RegisterOperationAction(
        CompilationStartAnalysisContext context,
        SpecTypes types,
        Action<OperationAnalysisContext> action,
        params OperationKind[] kinds) =>
        context.RegisterSymbolStartAction(
            symbolStart =>
            {
                if (types.IsSpec((INamedTypeSymbol)symbolStart.Symbol))
                {
                    symbolStart.RegisterOperationAction(action, kinds);
                }
            },
            SymbolKind.NamedType);

    /// <summary>
    /// Runs <paramref name="action"/> on each value returned by a server spec's override of the ServerSpec property
    /// <paramref name="propertyName"/> (<c>public override string Version => "1.0.0";</c> gives the literal).
    /// </summary>
    public static void RegisterPropertyValueAction(
        CompilationStartAnalysisContext context,
        SpecTypes types,
        string propertyName,
        Action<OperationBlockAnalysisContext, IPropertySymbol, IOperation> action) =>
        context.RegisterSymbolStartAction(
            symbolStart =>
            {
                if (!types.IsServerSpec((INamedTypeSymbol)symbolStart.Symbol))
                {
                    return;
                }

                symbolStart.RegisterOperationBlockAction(block =>
                {
                    if (block.OwningSymbol is IMethodSymbol { MethodKind: MethodKind.PropertyGet, AssociatedSymbol: IPropertySymbol property }
                        && types.IsServerSpecProperty(property, propertyName))
                    {
                        foreach (var value in ReturnedValues(block.OperationBlocks))
                        {
                            action(block, property, value);
                        }
                    }
                });
            },
            SymbolKind.NamedType);

    private static IEnumerable<IOperation> ReturnedValues(IEnumerable<IOperation> blocks)
    {
        foreach (var block in blocks)
        {
            foreach (var operation in block.DescendantsAndSelf())
            {
                if (operation is IReturnOperation { ReturnedValue: { } value } && !operation.IsInsideFunction())
                {
                    yield return value.WalkDownConversion();
                }
            }
        }
    }
}
