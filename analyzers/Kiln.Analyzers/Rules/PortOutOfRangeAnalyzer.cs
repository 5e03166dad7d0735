using System.Collections.Immutable;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>KILN0020: a port number outside 1-65535 (a declared port, or a health check's port).</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class PortOutOfRangeAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.PortOutOfRange,
        "Port number out of range",
        "Port {0} is outside 1-65535",
        Descriptors.Correctness,
        DiagnosticSeverity.Error,
        "TCP and UDP ports are 1-65535; the image config and the deployment would be refused, or worse, silently truncated.");

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types) =>
        PortCalls.RegisterPortAction(context, types, (operationContext, number, numberOperation) =>
        {
            if (number < 1 || number > 65535)
            {
                operationContext.ReportDiagnostic(Diagnostic.Create(Rule, numberOperation.Syntax.GetLocation(), number));
            }
        });
}
