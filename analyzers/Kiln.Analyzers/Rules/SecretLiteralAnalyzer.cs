using System;
using System.Collections.Immutable;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KILN0014: a string in a spec that looks like a secret (a private key block, an AWS key id, a token, a
/// <c>password=</c> assignment, credentials in a URL), or a non-empty value given to an environment variable whose
/// name says it is a secret.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SecretLiteralAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.SecretLiteral,
        "Secret written into the spec",
        "{0}; a secret baked into an image is readable by anyone who can pull it: declare a SecretReference and let the platform supply it",
        Descriptors.Security,
        DiagnosticSeverity.Warning,
        "An image is copied to every registry, cache and node it passes through and can never be changed: a secret in it cannot be rotated, only leaked.");

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types) =>
        SpecActions.RegisterOperationAction(
            context,
            types,
            new SyntaxFilter { ObjectCreations = true, Strings = text => Looks(text) is not null },
            operationContext =>
            {
                switch (operationContext.Operation)
                {
                    case ILiteralOperation literal when literal.TryGetString(out var text) && Looks(text) is { } what:
                        operationContext.ReportDiagnostic(Diagnostic.Create(Rule, literal.Syntax.GetLocation(), $"This string looks like {what}"));
                        break;
                    case IObjectCreationOperation creation when SpecTypes.Is(creation.Type, types.EnvironmentVariable)
                        && creation.Arguments.Argument("Name").TryGetString(out var name)
                        && creation.Arguments.Argument("Value") is { } value
                        && value.TryGetString(out var text) && text.Length > 0
                        && IsSecretName(name)
                        && Looks(text) is null:
                        operationContext.ReportDiagnostic(Diagnostic.Create(Rule, value.Syntax.GetLocation(), $"Environment variable '{name}' is given a value in the spec"));
                        break;
                }
            },
            OperationKind.Literal,
            OperationKind.ObjectCreation);

    private static string? Looks(string text) => SecretPatterns.Find(text);

    private static bool IsSecretName(string name) => SecretPatterns.IsSecretName(name);
}
