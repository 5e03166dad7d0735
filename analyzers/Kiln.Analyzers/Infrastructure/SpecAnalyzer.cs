using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Infrastructure;

/// <summary>
/// The shape every Kiln analyzer shares: concurrent, generated code skipped, and nothing registered unless the
/// compilation references Kiln.Spec. Rules register their actions through <see cref="SpecActions"/>, which scopes them to spec types.
/// </summary>
public abstract class SpecAnalyzer : DiagnosticAnalyzer
{
    public sealed override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            if (SpecTypes.TryGet(start.Compilation, out var types))
            {
                Register(start, types);
            }
        });
    }

    private protected abstract void Register(CompilationStartAnalysisContext context, SpecTypes types);
}

