using System.Collections.Immutable;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KILN0006: a registry base image with a tag but no (well-formed) digest. References with no tag at all are
/// KILN0004's, and moving tags KILN0005's: each reference gets the one most specific diagnostic.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class BaseImageNotPinnedAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.BaseImageNotPinned,
        "Registry base image is not pinned by digest",
        "Base image '{0}' {1}; a tag can be re-pushed, so pin it as '{0}@sha256:…' (kiln.lock.json records the digest it resolved)",
        Descriptors.Pinning,
        DiagnosticSeverity.Warning,
        "Only a digest names content. A tag is a pointer the registry's owner can move, so a build from a tag is not reproducible.");

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types) =>
        BaseImageCalls.RegisterRegistryReferenceAction(context, types, (operationContext, text, location) =>
        {
            var reference = ImageReference.Parse(text);
            if (reference.IsPinned)
            {
                return;
            }

            if (reference.Digest is not null)
            {
                operationContext.ReportDiagnostic(Diagnostic.Create(Rule, location, text, $"has a malformed digest '{reference.Digest}' (expected sha256: and 64 lower-case hex digits)"));
            }
            else if (reference.Tag is { } tag
                && !System.Linq.Enumerable.Contains(KilnOptions.MutableTags(operationContext.Options, location.SourceTree!), tag, System.StringComparer.OrdinalIgnoreCase))
            {
                operationContext.ReportDiagnostic(Diagnostic.Create(Rule, location, text, "is pinned by tag only"));
            }
        });
}
