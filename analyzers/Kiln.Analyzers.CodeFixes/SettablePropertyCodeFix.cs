using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Kiln.Analyzers.CodeFixes;

/// <summary>KILN0001: turns <c>set</c> into <c>init</c>, or removes it.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(SettablePropertyCodeFix)), Shared]
public sealed class SettablePropertyCodeFix : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds => [DiagnosticIds.SettableProperty];

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var diagnostic = context.Diagnostics[0];
        if (root?.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true).FirstAncestorOrSelf<AccessorDeclarationSyntax>() is not { } setter
            || setter.Parent?.Parent is not BasePropertyDeclarationSyntax property)
        {
            return;
        }

        if (!property.Modifiers.Any(SyntaxKind.StaticKeyword))
        {
            context.RegisterCodeFix(
                CodeAction.Create(
                    "Make the setter init-only",
                    _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(setter, InitAccessor(setter)))),
                    equivalenceKey: "KILN0001.init"),
                diagnostic);
        }

        context.RegisterCodeFix(
            CodeAction.Create(
                "Remove the setter (get-only)",
                _ => Task.FromResult(context.Document.WithSyntaxRoot(root.RemoveNode(setter, SyntaxRemoveOptions.KeepNoTrivia)!)),
                equivalenceKey: "KILN0001.getonly"),
            diagnostic);
    }

    private static AccessorDeclarationSyntax InitAccessor(AccessorDeclarationSyntax setter) =>
        SyntaxFactory.AccessorDeclaration(
            SyntaxKind.InitAccessorDeclaration,
            setter.AttributeLists,
            setter.Modifiers,
            SyntaxFactory.Token(setter.Keyword.LeadingTrivia, SyntaxKind.InitKeyword, setter.Keyword.TrailingTrivia),
            setter.Body,
            setter.ExpressionBody,
            setter.SemicolonToken);
}
