using System.Collections.Generic;
using System.Collections.Immutable;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>KILN0003: a spec property or field typed as a mutable collection (arrays, List, Dictionary, HashSet…).</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class MutableCollectionAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.MutableCollection,
        "Spec exposes a mutable collection",
        "'{0}' is a mutable collection ({1}); use ImmutableArray<T> or another immutable collection",
        Descriptors.Immutability,
        DiagnosticSeverity.Warning,
        "A get-only property that returns a List or an array can still be changed through it: Add, Clear or an element assignment rewrites the spec. Immutable collections cannot.");

    /// <summary>Mutable collection types, by metadata name (interfaces included: they expose Add and the indexer setter).</summary>
    internal static readonly ImmutableArray<string> MutableTypeNames =
    [
        "System.Collections.Generic.List`1",
        "System.Collections.Generic.IList`1",
        "System.Collections.Generic.ICollection`1",
        "System.Collections.Generic.Dictionary`2",
        "System.Collections.Generic.IDictionary`2",
        "System.Collections.Generic.HashSet`1",
        "System.Collections.Generic.ISet`1",
        "System.Collections.Generic.SortedSet`1",
        "System.Collections.Generic.SortedDictionary`2",
        "System.Collections.Generic.SortedList`2",
        "System.Collections.Generic.LinkedList`1",
        "System.Collections.Generic.Queue`1",
        "System.Collections.Generic.Stack`1",
        "System.Collections.ObjectModel.Collection`1",
        "System.Collections.ObjectModel.ObservableCollection`1",
        "System.Collections.Concurrent.ConcurrentDictionary`2",
        "System.Collections.Concurrent.ConcurrentBag`1",
        "System.Collections.ArrayList",
        "System.Collections.Hashtable",
    ];

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types)
    {
        var mutableTypes = new HashSet<INamedTypeSymbol>(SymbolEqualityComparer.Default);
        foreach (var name in MutableTypeNames)
        {
            if (context.Compilation.GetTypeByMetadataName(name) is { } type)
            {
                mutableTypes.Add(type);
            }
        }

        context.RegisterSymbolAction(
            symbolContext =>
            {
                var (type, isOverride) = symbolContext.Symbol switch
                {
                    IPropertySymbol property => (property.Type, property.IsOverride),
                    IFieldSymbol { IsImplicitlyDeclared: false, AssociatedSymbol: null } field => (field.Type, false),
                    _ => (null, false),
                };

                // An override cannot change its type: the rule reports the declaration it overrides.
                if (type is null || isOverride || !IsMutable(type, mutableTypes) || !types.IsSpec(symbolContext.Symbol.ContainingType))
                {
                    return;
                }

                foreach (var reference in symbolContext.Symbol.DeclaringSyntaxReferences)
                {
                    var typeSyntax = reference.GetSyntax(symbolContext.CancellationToken) switch
                    {
                        PropertyDeclarationSyntax p => p.Type,
                        VariableDeclaratorSyntax { Parent: VariableDeclarationSyntax declaration } => declaration.Type,
                        _ => null,
                    };
                    if (typeSyntax is not null)
                    {
                        symbolContext.ReportDiagnostic(Diagnostic.Create(
                            Rule, typeSyntax.GetLocation(), symbolContext.Symbol.Name, type.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat)));
                    }
                }
            },
            SymbolKind.Property,
            SymbolKind.Field);
    }

    private static bool IsMutable(ITypeSymbol type, HashSet<INamedTypeSymbol> mutableTypes) =>
        type is IArrayTypeSymbol || (type is INamedTypeSymbol named && mutableTypes.Contains(named.OriginalDefinition));
}
