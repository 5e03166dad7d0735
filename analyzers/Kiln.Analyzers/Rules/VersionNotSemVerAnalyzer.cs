using System.Collections.Immutable;
using Kiln.Analyzers.Infrastructure;
using Kiln.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>KILN0023: a server version that is not SemVer 2.0 (and so not a valid image tag either).</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class VersionNotSemVerAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.VersionNotSemVer,
        "Version is not SemVer",
        "Version '{0}' is not a SemVer 2.0 version without build metadata, such as '1.4.0' or '2.0.0-rc.1'",
        Descriptors.Correctness,
        DiagnosticSeverity.Error,
        "The version is the image tag and the key of kiln.lock.json: a released version can never mean two things. SemVer keeps versions comparable and tags valid (the '+build' part is not allowed in a tag).");

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types) =>
        SpecActions.RegisterStringPropertyCheck(context, types, "Version", Rule, Grammar.IsVersion);
}
