using System.Collections.Immutable;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KILN0008: a Debian package without <c>=version</c> when no lock pins versions instead
/// (<c>kiln.require_package_pins = true</c>, or KilnLockMode=Off made visible to the compiler).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class UnpinnedPackageAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.UnpinnedPackage,
        "Debian package is not pinned to a version",
        "Package '{0}' has no version and no lock pins it; write it as '{0}=<version>'",
        Descriptors.Pinning,
        DiagnosticSeverity.Warning,
        "Without kiln.lock.json, a package name resolves to whatever version the mirror has on the day of the build.");

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types) =>
        BaseImageCalls.RegisterDebianAction(context, types, (operationContext, debian) =>
        {
            if (!KilnOptions.RequirePackagePins(operationContext.Options, debian.Operation.Syntax.SyntaxTree))
            {
                return;
            }

            foreach (var element in debian.Packages.CollectionElements())
            {
                if (element.TryGetString(out var package) && package.IndexOf('=') < 0)
                {
                    operationContext.ReportDiagnostic(Diagnostic.Create(Rule, element.Origin.Syntax.GetLocation(), package));
                }
            }
        });
}
