using System.Collections.Immutable;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Simplification;

namespace Kiln.Analyzers.CodeFixes;

/// <summary>
/// A fix that replaces the node at the diagnostic's span with an expression built from a Kiln.Spec type (named by
/// <see cref="SpecTypeName"/>), keeping the node's trivia and simplifying the type name. Not offered when
/// <see cref="TryGetReplacement"/> declines, and a no-op when the compilation has no such type.
/// </summary>
public abstract class ReplaceNodeCodeFix : CodeFixProvider
{
    private protected ReplaceNodeCodeFix(string diagnosticId, string title, string specTypeName)
    {
        FixableDiagnosticIds = [diagnosticId];
        Title = title;
        SpecTypeName = specTypeName;
    }

    public sealed override ImmutableArray<string> FixableDiagnosticIds { get; }

    private string Title { get; }

    private string SpecTypeName { get; }

    public sealed override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public sealed override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var diagnostic = context.Diagnostics[0];
        if (!TryGetReplacement(diagnostic, out var replace))
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
                Title,
                async cancellationToken =>
                {
                    var editor = await DocumentEditor.CreateAsync(context.Document, cancellationToken).ConfigureAwait(false);
                    var type = editor.SemanticModel.Compilation.GetTypeByMetadataName(SpecTypeName);
                    if (type is null)
                    {
                        return context.Document;
                    }

                    var replacement = replace(editor.Generator, editor.Generator.TypeExpression(type))
                        .WithTriviaFrom(node)
                        .WithAdditionalAnnotations(Simplifier.Annotation);
                    editor.ReplaceNode(node, replacement);
                    return editor.GetChangedDocument();
                },
                equivalenceKey: FixableDiagnosticIds[0]),
            diagnostic);
    }

    /// <summary>
    /// Decides whether <paramref name="diagnostic"/> can be fixed and, if so, how the replacement is built from a
    /// generator and the spec type's expression.
    /// </summary>
    private protected abstract bool TryGetReplacement(Diagnostic diagnostic, out System.Func<SyntaxGenerator, SyntaxNode, SyntaxNode> replace);
}
