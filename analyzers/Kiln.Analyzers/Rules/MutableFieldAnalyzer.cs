using System.Collections.Immutable;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KILN0002: a field of a spec that is not readonly, or spec code that reads a static field of another type
/// that anyone can reassign.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class MutableFieldAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.MutableField,
        "Spec holds mutable state",
        "{0}; make it readonly",
        Descriptors.Immutability,
        DiagnosticSeverity.Warning,
        "A field that can be reassigned, in the spec or in static state the spec reads, makes the spec's values depend on what ran before it: the same spec type could produce two images.");

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types)
    {
        context.RegisterSymbolAction(
            symbolContext =>
            {
                var field = (IFieldSymbol)symbolContext.Symbol;
                if (IsMutable(field) && types.IsSpec(field.ContainingType) && field.Locations.Length > 0)
                {
                    symbolContext.ReportDiagnostic(Diagnostic.Create(
                        Rule, field.Locations[0], $"Field '{field.Name}' of spec '{field.ContainingType.Name}' can be reassigned"));
                }
            },
            SymbolKind.Field);

        SpecActions.RegisterOperationAction(
            context,
            types,
            operationContext =>
            {
                var reference = (IFieldReferenceOperation)operationContext.Operation;
                var field = reference.Field;
                // Fields of spec types are reported where they are declared; report static state declared elsewhere in source.
                if (field.IsStatic && IsMutable(field) && !types.IsSpec(field.ContainingType) && field.Locations.Length > 0 && field.Locations[0].IsInSource)
                {
                    operationContext.ReportDiagnostic(Diagnostic.Create(
                        Rule, reference.Syntax.GetLocation(), $"Spec reads static field '{field.ContainingType.Name}.{field.Name}', which can be reassigned"));
                }
            },
            OperationKind.FieldReference);
    }

    private static bool IsMutable(IFieldSymbol field) =>
        !field.IsConst && !field.IsReadOnly && !field.IsImplicitlyDeclared && field.AssociatedSymbol is null;
}
