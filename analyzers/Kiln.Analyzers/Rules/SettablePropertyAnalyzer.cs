using System.Collections.Immutable;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>KILN0001: a property of a spec with a <c>set</c> accessor.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SettablePropertyAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.SettableProperty,
        "Spec property has a setter",
        "Property '{0}' of spec '{1}' can be set after construction; make it get-only or init-only",
        Descriptors.Immutability,
        DiagnosticSeverity.Warning,
        "A spec describes one immutable image. A settable property lets code change the spec after it was built, so two reads can describe two different servers.");

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types) =>
        context.RegisterSymbolAction(
            symbolContext =>
            {
                var property = (IPropertySymbol)symbolContext.Symbol;
                if (property is { SetMethod: { IsInitOnly: false, IsImplicitlyDeclared: false } setter }
                    && types.IsSpec(property.ContainingType)
                    && setter.Locations.Length > 0)
                {
                    symbolContext.ReportDiagnostic(Diagnostic.Create(Rule, setter.Locations[0], property.Name, property.ContainingType.Name));
                }
            },
            SymbolKind.Property);
}
