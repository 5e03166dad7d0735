using System.Collections.Immutable;
using Kiln.Analyzers.Infrastructure;
using Kiln.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KILN0025: a server name that is not one component of an OCI repository path, as evaluation's KILN2003 checks it
/// (the same grammar, src/Shared/Grammar.cs). A '/' is refused: the repository path in front of the name is the
/// build's KilnRepositoryPrefix.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class InvalidImageNameAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.InvalidImageName,
        "Server name is not a valid image name",
        "Name '{0}' is not a valid image name: use 1-128 lower-case letters and digits, separated by '.', '_', '__' or '-' (no '/': the path in front of the name is KilnRepositoryPrefix)",
        Descriptors.Correctness,
        DiagnosticSeverity.Error,
        "The name becomes the image repository in the OCI layout, the registry and the lock. A name the distribution spec rejects fails at push, after the build.");

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types) =>
        SpecActions.RegisterStringPropertyCheck(context, types, "Name", Rule, Grammar.IsServerName);
}
