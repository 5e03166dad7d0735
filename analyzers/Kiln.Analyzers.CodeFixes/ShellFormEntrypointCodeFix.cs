using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading.Tasks;
using Kiln.Analyzers.Infrastructure;
using Kiln.Analyzers.Rules;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Simplification;

namespace Kiln.Analyzers.CodeFixes;

/// <summary>
/// KILN0018: rewrites a shell-form entrypoint in exec form, <c>new Entrypoint("/app/server", "--port", "8080")</c>.
/// Offered only when the command is plain words (no expansion, quoting, redirection or control flow), where exec
/// form runs the same program with the same arguments.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ShellFormEntrypointCodeFix)), Shared]
public sealed class ShellFormEntrypointCodeFix : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds => [DiagnosticIds.ShellFormEntrypoint];

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var diagnostic = context.Diagnostics[0];
        if (!diagnostic.Properties.TryGetValue(ShellFormEntrypointAnalyzer.CommandProperty, out var command)
            || command is null
            || !ShellForm.TrySplitPlainCommand(command, out var argv))
        {
            return;
        }

        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not { } node)
        {
            return;
        }

        context.RegisterCodeFix(
            CodeAction.Create(
                "Use exec form",
                async cancellationToken =>
                {
                    var editor = await DocumentEditor.CreateAsync(context.Document, cancellationToken).ConfigureAwait(false);
                    var entrypoint = editor.SemanticModel.Compilation.GetTypeByMetadataName("Kiln.Spec.Entrypoint");
                    if (entrypoint is null)
                    {
                        return context.Document;
                    }

                    var generator = editor.Generator;
                    var replacement = generator.ObjectCreationExpression(generator.TypeExpression(entrypoint), argv.Select(a => generator.LiteralExpression(a)))
                        .WithTriviaFrom(node)
                        .WithAdditionalAnnotations(Simplifier.Annotation);
                    editor.ReplaceNode(node, replacement);
                    return editor.GetChangedDocument();
                },
                equivalenceKey: DiagnosticIds.ShellFormEntrypoint),
            diagnostic);
    }
}
