using System.Collections.Immutable;
using System.Composition;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Simplification;

namespace Kiln.Analyzers.CodeFixes;

/// <summary>KILN0009: replaces the root account with <c>Account.NonRoot("app", 10001)</c>, the DSL's default account.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RootAccountCodeFix)), Shared]
public sealed class RootAccountCodeFix : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds => [DiagnosticIds.RootAccount];

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var diagnostic = context.Diagnostics[0];
        if (root?.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not { } node)
        {
            return;
        }

        context.RegisterCodeFix(
            CodeAction.Create(
                "Run as Account.NonRoot(\"app\", 10001)",
                async cancellationToken =>
                {
                    var editor = await DocumentEditor.CreateAsync(context.Document, cancellationToken).ConfigureAwait(false);
                    var account = editor.SemanticModel.Compilation.GetTypeByMetadataName("Kiln.Spec.Account");
                    if (account is null)
                    {
                        return context.Document;
                    }

                    var generator = editor.Generator;
                    var replacement = generator.InvocationExpression(
                            generator.MemberAccessExpression(generator.TypeExpression(account), "NonRoot"),
                            generator.LiteralExpression("app"),
                            generator.LiteralExpression(10001))
                        .WithTriviaFrom(node)
                        .WithAdditionalAnnotations(Simplifier.Annotation);
                    editor.ReplaceNode(node, replacement);
                    return editor.GetChangedDocument();
                },
                equivalenceKey: DiagnosticIds.RootAccount),
            diagnostic);
    }
}
