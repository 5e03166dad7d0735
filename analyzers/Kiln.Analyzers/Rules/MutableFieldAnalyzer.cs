using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
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
            new SyntaxFilter().WithNames(StaticFieldNames(context.Compilation)),
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

    /// <summary>
    /// The names of the static fields declared in source that are neither const nor readonly: the only fields whose
    /// reads the rule reports, so the only names a member must spell to be worth binding.
    /// </summary>
    private static IEnumerable<string> StaticFieldNames(Compilation compilation)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tree in compilation.SyntaxTrees)
        {
            foreach (var node in tree.GetRoot().DescendantNodes(n => n is CompilationUnitSyntax or BaseNamespaceDeclarationSyntax or TypeDeclarationSyntax))
            {
                if (node is FieldDeclarationSyntax field
                    && field.Modifiers.Any(SyntaxKind.StaticKeyword)
                    && !field.Modifiers.Any(SyntaxKind.ConstKeyword)
                    && !field.Modifiers.Any(SyntaxKind.ReadOnlyKeyword))
                {
                    foreach (var variable in field.Declaration.Variables)
                    {
                        names.Add(variable.Identifier.ValueText);
                    }
                }
            }
        }

        return names;
    }

    private static bool IsMutable(IFieldSymbol field) =>
        !field.IsConst && !field.IsReadOnly && !field.IsImplicitlyDeclared && field.AssociatedSymbol is null;
}
