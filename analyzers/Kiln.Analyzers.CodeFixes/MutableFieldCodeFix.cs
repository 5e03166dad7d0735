using System.Collections.Immutable;
using System.Composition;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;

namespace Kiln.Analyzers.CodeFixes;

/// <summary>KILN0002: adds <c>readonly</c> to a spec's field declaration (not offered where static state is only read).</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MutableFieldCodeFix)), Shared]
public sealed class MutableFieldCodeFix : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds => [DiagnosticIds.MutableField];

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var diagnostic = context.Diagnostics[0];
        if (root?.FindNode(diagnostic.Location.SourceSpan) is not VariableDeclaratorSyntax { Parent.Parent: FieldDeclarationSyntax field })
        {
            return;
        }

        context.RegisterCodeFix(
            CodeAction.Create(
                "Make the field readonly",
                async cancellationToken =>
                {
                    var editor = await DocumentEditor.CreateAsync(context.Document, cancellationToken).ConfigureAwait(false);
                    editor.SetModifiers(field, editor.Generator.GetModifiers(field).WithIsReadOnly(true));
                    return editor.GetChangedDocument();
                },
                equivalenceKey: DiagnosticIds.MutableField),
            diagnostic);
    }
}
