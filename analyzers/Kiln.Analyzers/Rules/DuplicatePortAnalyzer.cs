using System.Collections.Generic;
using System.Collections.Immutable;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>KILN0021: the same port and protocol listed twice in a server's Ports.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class DuplicatePortAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.DuplicatePort,
        "Port declared twice",
        "Port {0}/{1} is already declared",
        Descriptors.Correctness,
        DiagnosticSeverity.Warning,
        "Two entries for one port are at best redundant and at worst two different names for one listener, which makes the service and probe definitions derived from them ambiguous.");

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types) =>
        SpecActions.RegisterPropertyValueAction(context, types, "Ports", (blockContext, property, value) =>
        {
            // Only a list read whole is judged: both branches of a ternary are two lists, not one with duplicates.
            var elements = value.CollectionElements(out var complete);
            if (!complete)
            {
                return;
            }

            var seen = new HashSet<(int, string)>();
            foreach (var element in elements)
            {
                if (PortCalls.TryGetPort(element.Value, types, out var number, out var protocol, out _) && protocol is not null && !seen.Add((number, protocol)))
                {
                    blockContext.ReportDiagnostic(Diagnostic.Create(Rule, element.Origin.Syntax.GetLocation(), number, protocol));
                }
            }
        });
}
