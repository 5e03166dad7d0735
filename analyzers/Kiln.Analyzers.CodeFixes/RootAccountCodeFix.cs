using System.Composition;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Editing;

namespace Kiln.Analyzers.CodeFixes;

/// <summary>KILN0009: replaces the root account with <c>Account.NonRoot("app", 10001)</c>, the DSL's default account.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RootAccountCodeFix)), Shared]
public sealed class RootAccountCodeFix() : ReplaceNodeCodeFix(DiagnosticIds.RootAccount, "Run as Account.NonRoot(\"app\", 10001)", "Kiln.Spec.Account")
{
    private protected override bool TryGetReplacement(Diagnostic diagnostic, out System.Func<SyntaxGenerator, SyntaxNode, SyntaxNode> replace)
    {
        replace = static (generator, account) => generator.InvocationExpression(
            generator.MemberAccessExpression(account, "NonRoot"),
            generator.LiteralExpression("app"),
            generator.LiteralExpression(10001));
        return true;
    }
}
