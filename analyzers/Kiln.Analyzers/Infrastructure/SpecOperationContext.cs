using System;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Infrastructure;

/// <summary>
/// What a rule sees of one operation in spec code: the operation, the member it is in, the options, and a way to
/// report. It stands in for OperationAnalysisContext because <see cref="SpecActions"/> builds operations only for
/// the members whose syntax can matter to a rule, instead of letting the driver build them for every member.
/// </summary>
internal readonly struct SpecOperationContext
{
    private readonly Action<Diagnostic> _report;

    public SpecOperationContext(IOperation operation, ISymbol containingSymbol, AnalyzerOptions options, Action<Diagnostic> report, CancellationToken cancellationToken)
    {
        Operation = operation;
        ContainingSymbol = containingSymbol;
        Options = options;
        _report = report;
        CancellationToken = cancellationToken;
    }

    public IOperation Operation { get; }

    public ISymbol ContainingSymbol { get; }

    public AnalyzerOptions Options { get; }

    public CancellationToken CancellationToken { get; }

    public void ReportDiagnostic(Diagnostic diagnostic) => _report(diagnostic);
}
