using System;
using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>KILN0025: a server name that is not a valid OCI repository name.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class InvalidImageNameAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.InvalidImageName,
        "Server name is not a valid image name",
        "Name '{0}' is not a valid image name: use lower-case letters and digits, separated by single '.', '_', '-' or '/'",
        Descriptors.Correctness,
        DiagnosticSeverity.Error,
        "The name becomes the image repository in the OCI layout, the registry and the lock. A name the distribution spec rejects fails at push, after the build.");

    // The repository path grammar of the OCI distribution spec.
    private static readonly Regex Name = new(
        @"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$",
        RegexOptions.CultureInvariant,
        TimeSpan.FromMilliseconds(100));

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types) =>
        SpecActions.RegisterStringPropertyCheck(context, types, "Name", Rule, name => Name.IsMatchWithin(name, maxLength: 255));
}
