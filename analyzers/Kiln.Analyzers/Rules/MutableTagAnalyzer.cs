using System;
using System.Collections.Immutable;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KILN0005: a registry base image by a tag that moves (<c>latest</c>, <c>stable</c>…, configurable with
/// <c>kiln.mutable_tags</c>) and no digest, or a Debian base on a suite alias that moves (<c>stable</c>, <c>testing</c>, <c>sid</c>…).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class MutableTagAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.MutableTag,
        "Base image uses a tag or suite that moves",
        "{0} '{1}' moves over time; {2}",
        Descriptors.Pinning,
        DiagnosticSeverity.Warning,
        "Tags such as 'latest' or 'stable' and Debian suite aliases such as 'stable' are re-pointed by their publishers: the same spec builds a different server next week.");

    internal static readonly ImmutableArray<string> MovingSuites =
        ["stable", "oldstable", "oldoldstable", "testing", "unstable", "sid", "experimental", "stable-backports", "stable-updates"];

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types)
    {
        BaseImageCalls.RegisterRegistryReferenceAction(context, types, (operationContext, text, location) =>
        {
            var reference = ImageReference.Parse(text);
            if (reference.Tag is { } tag && reference.Digest is null
                && KilnOptions.MutableTags(operationContext.Options, location.SourceTree!).Contains(tag, StringComparer.OrdinalIgnoreCase))
            {
                operationContext.ReportDiagnostic(Diagnostic.Create(Rule, location, "Tag", tag, $"pin '{text}' by digest ('@sha256:…')"));
            }
        });

        BaseImageCalls.RegisterDebianAction(context, types, (operationContext, debian) =>
        {
            if (debian.Suite is { } suiteArgument
                && suiteArgument.TryGetString(out var suite)
                && MovingSuites.Contains(suite, StringComparer.OrdinalIgnoreCase))
            {
                operationContext.ReportDiagnostic(Diagnostic.Create(
                    Rule, suiteArgument.Syntax.GetLocation(), "Debian suite", suite, "name the release by its codename (for example 'bookworm')"));
            }
        });
    }
}
