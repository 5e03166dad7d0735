using System;
using System.Collections.Immutable;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KILN0007: a registry base image from a registry that <c>kiln.allowed_registries</c> does not list. Silent when
/// the option is not set. An entry is a host (<c>ghcr.io</c>, <c>registry.local:5000</c>) or a host with a path
/// prefix (<c>ghcr.io/acme</c>); <c>docker.io</c> covers references that name no registry.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class RegistryNotAllowedAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.RegistryNotAllowed,
        "Base image comes from a registry that is not allowed",
        "Base image '{0}' comes from '{1}', which is not in kiln.allowed_registries ({2})",
        Descriptors.Security,
        DiagnosticSeverity.Warning,
        "An organisation that mirrors and scans its bases lists the registries it trusts; a base from elsewhere bypasses that review.");

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types) =>
        BaseImageCalls.RegisterRegistryReferenceAction(context, types, (operationContext, text, location) =>
        {
            var allowed = KilnOptions.AllowedRegistries(operationContext.Options, location.SourceTree!);
            if (allowed.IsEmpty)
            {
                return;
            }

            var reference = ImageReference.Parse(text);
            var fullName = reference.Registry + "/" + reference.Repository;
            foreach (var entry in allowed)
            {
                var prefix = entry.TrimEnd('/');
                if (string.Equals(prefix, reference.Registry, StringComparison.OrdinalIgnoreCase)
                    || fullName.StartsWith(prefix + "/", StringComparison.OrdinalIgnoreCase))
                {
                    return;
                }
            }

            operationContext.ReportDiagnostic(Diagnostic.Create(Rule, location, text, reference.Registry, string.Join(", ", allowed)));
        });
}
