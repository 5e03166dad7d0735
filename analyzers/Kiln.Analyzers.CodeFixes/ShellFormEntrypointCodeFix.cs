using System.Composition;
using System.Linq;
using Kiln.Analyzers.Infrastructure;
using Kiln.Analyzers.Rules;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Editing;

namespace Kiln.Analyzers.CodeFixes;

/// <summary>
/// KILN0018: rewrites a shell-form entrypoint in exec form, <c>new Entrypoint("/app/server", "--port", "8080")</c>.
/// Offered only when the command is plain words (no expansion, quoting, redirection or control flow), where exec
/// form runs the same program with the same arguments.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ShellFormEntrypointCodeFix)), Shared]
public sealed class ShellFormEntrypointCodeFix() : ReplaceNodeCodeFix(DiagnosticIds.ShellFormEntrypoint, "Use exec form", "Kiln.Spec.Entrypoint")
{
    private protected override bool TryGetReplacement(Diagnostic diagnostic, out System.Func<SyntaxGenerator, SyntaxNode, SyntaxNode> replace)
    {
        if (!diagnostic.Properties.TryGetValue(ShellFormEntrypointAnalyzer.CommandProperty, out var command)
            || command is null
            || !ShellForm.TrySplitPlainCommand(command, out var argv))
        {
            replace = null!;
            return false;
        }

        replace = (generator, entrypoint) => generator.ObjectCreationExpression(entrypoint, argv.Select(a => generator.LiteralExpression(a)));
        return true;
    }
}
