using System.Collections.Immutable;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>KILN0004: a registry base image reference with neither a tag nor a digest.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class UnversionedBaseImageAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.UnversionedBaseImage,
        "Base image has no tag and no digest",
        "Base image '{0}' names no tag and no digest, so it means whatever the registry serves as 'latest' today; pin it with '@sha256:…'",
        Descriptors.Pinning,
        DiagnosticSeverity.Warning,
        "A reference without a tag or digest resolves to 'latest' at pull time: two builds of the same spec version can start from different bases.");

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types) =>
        BaseImageCalls.RegisterRegistryReferenceAction(context, types, (operationContext, text, location) =>
        {
            var reference = ImageReference.Parse(text);
            if (reference.Tag is null && reference.Digest is null)
            {
                operationContext.ReportDiagnostic(Diagnostic.Create(Rule, location, text));
            }
        });
}
