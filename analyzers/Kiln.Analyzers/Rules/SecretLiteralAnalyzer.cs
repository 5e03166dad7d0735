using System;
using System.Collections.Immutable;
using System.Text.RegularExpressions;
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

    private static readonly char[] Triggers = ['-', '_', '=', ':', '.', 'A'];

    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);

    private static readonly (Regex Pattern, string What)[] Patterns =
    [
        (new Regex(@"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----", RegexOptions.CultureInvariant, MatchTimeout), "a private key"),
        (new Regex(@"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", RegexOptions.CultureInvariant, MatchTimeout), "an AWS access key id"),
        (new Regex(@"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b", RegexOptions.CultureInvariant, MatchTimeout), "a GitHub token"),
        (new Regex(@"\bxox[abprs]-[A-Za-z0-9-]{10,}", RegexOptions.CultureInvariant, MatchTimeout), "a Slack token"),
        (new Regex(@"\b(?:sk|rk)_live_[0-9A-Za-z]{16,}", RegexOptions.CultureInvariant, MatchTimeout), "a Stripe key"),
        (new Regex(@"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+", RegexOptions.CultureInvariant, MatchTimeout), "a JSON web token"),
        (new Regex(@"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s:@$%{]+@", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase, MatchTimeout), "credentials in a URL"),
        (new Regex(@"\b(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret)\s*[=:]\s*[^\s;,'""$%{<]{3,}", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase, MatchTimeout), "a password or key assignment"),
    ];

    private static readonly Regex SecretName = new(
        @"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase,
        MatchTimeout);

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

    private static string? Looks(string text)
    {
        // Every pattern needs one of these characters; most strings in a spec (paths, names) have none, and skip the regexes.
        if (text.Length < 8 || text.IndexOfAny(Triggers) < 0)
        {
            return null;
        }

        foreach (var (pattern, what) in Patterns)
        {
            try
            {
                if (pattern.IsMatch(text))
                {
                    return what;
                }
            }
            catch (RegexMatchTimeoutException)
            {
                // A pathological string is not worth a build: treat it as no match.
            }
        }

        return null;
    }

    private static bool IsSecretName(string name)
    {
        try
        {
            return SecretName.IsMatch(name);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }
}
