using System.Collections.Immutable;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>KILN0015: spec code reads the clock, a random source or the environment of the machine that builds it.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class NonDeterministicCallAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.NonDeterministicCall,
        "Spec code is not deterministic",
        "'{0}' gives a different value on each build or machine; a spec must evaluate to the same server everywhere",
        Descriptors.Determinism,
        DiagnosticSeverity.Warning,
        "Same spec and same inputs must give the same image digest, on any machine, at any time. The clock, random numbers and the build machine's environment break that.");

    internal static readonly ImmutableArray<string> WholeTypes =
    [
        "System.Environment",
        "System.Random",
        "System.Security.Cryptography.RandomNumberGenerator",
        "System.Diagnostics.Stopwatch",
    ];

    internal static readonly ImmutableArray<(string Type, string Member)> Members =
    [
        ("System.DateTime", "Now"),
        ("System.DateTime", "UtcNow"),
        ("System.DateTime", "Today"),
        ("System.DateTimeOffset", "Now"),
        ("System.DateTimeOffset", "UtcNow"),
        ("System.Guid", "NewGuid"),
        ("System.Guid", "CreateVersion7"),
        ("System.TimeProvider", "System"),
        ("System.IO.Path", "GetRandomFileName"),
    ];

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types) =>
        ForbiddenApis.Register(context, types, Rule, WholeTypes, Members);
}
