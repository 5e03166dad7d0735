using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Formatting;
using Microsoft.CodeAnalysis.Simplification;

namespace Kiln.Analyzers.CodeFixes;

/// <summary>
/// KILN0003: retypes a mutable collection as its immutable counterpart (arrays and lists as ImmutableArray&lt;T&gt;,
/// sets as ImmutableHashSet&lt;T&gt;, dictionaries as ImmutableDictionary&lt;TKey, TValue&gt;) and rewrites the value it is
/// given: an array or list initializer becomes a collection expression, anything else is converted with ToImmutable….
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MutableCollectionCodeFix)), Shared]
public sealed class MutableCollectionCodeFix : CodeFixProvider
{
    private enum Shape
    {
        Sequence,
        Set,
        Dictionary,
    }

    public override ImmutableArray<string> FixableDiagnosticIds => [DiagnosticIds.MutableCollection];

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var diagnostic = context.Diagnostics[0];
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var semanticModel = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not TypeSyntax typeSyntax
            || semanticModel is null
            || Target(semanticModel.GetTypeInfo(typeSyntax, context.CancellationToken).Type, semanticModel.Compilation) is not { } target)
        {
            return;
        }

        context.RegisterCodeFix(
            CodeAction.Create(
                $"Use {target.Type.Name}",
                cancellationToken => ApplyAsync(context.Document, typeSyntax, target.Type, target.Shape, cancellationToken),
                equivalenceKey: DiagnosticIds.MutableCollection),
            diagnostic);
    }

    private static (INamedTypeSymbol Type, Shape Shape)? Target(ITypeSymbol? type, Compilation compilation)
    {
        ITypeSymbol[] arguments;
        Shape shape;
        switch (type)
        {
            case IArrayTypeSymbol { Rank: 1 } array:
                arguments = [array.ElementType];
                shape = Shape.Sequence;
                break;
            case INamedTypeSymbol { IsGenericType: true } named:
                arguments = [.. named.TypeArguments];
                var name = named.OriginalDefinition.ToDisplayString();
                shape = name.Contains("Dictionary") || name.StartsWith("System.Collections.Generic.SortedList", System.StringComparison.Ordinal) ? Shape.Dictionary
                    : name.Contains("Set<") ? Shape.Set
                    : Shape.Sequence;
                break;
            default:
                return null;
        }

        var metadataName = shape switch
        {
            Shape.Dictionary => "System.Collections.Immutable.ImmutableDictionary`2",
            Shape.Set => "System.Collections.Immutable.ImmutableHashSet`1",
            _ => "System.Collections.Immutable.ImmutableArray`1",
        };

        return compilation.GetTypeByMetadataName(metadataName) is { } definition && definition.Arity == arguments.Length
            ? (definition.Construct(arguments), shape)
            : null;
    }

    private static async Task<Document> ApplyAsync(Document document, TypeSyntax typeSyntax, INamedTypeSymbol target, Shape shape, CancellationToken cancellationToken)
    {
        var editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
        var generator = editor.Generator;
        editor.ReplaceNode(
            typeSyntax,
            generator.TypeExpression(target).WithTriviaFrom(typeSyntax).WithAdditionalAnnotations(Simplifier.Annotation));

        foreach (var value in Values(typeSyntax.Parent))
        {
            editor.ReplaceNode(value, Convert(value, typeSyntax, shape).WithTriviaFrom(value).WithAdditionalAnnotations(Formatter.Annotation));
        }

        // The ToImmutable… extensions and the short type name need the namespace in scope.
        if (editor.SemanticModel.LookupNamespacesAndTypes(typeSyntax.SpanStart, name: target.Name).IsEmpty)
        {
            editor.ReplaceNode(
                editor.OriginalRoot,
                (root, g) => g.AddNamespaceImports(root, g.NamespaceImportDeclaration("System.Collections.Immutable")));
        }

        return editor.GetChangedDocument();
    }

    /// <summary>The expressions that give the member its value: initializer, expression body, or a getter's expression body.</summary>
    private static IEnumerable<ExpressionSyntax> Values(SyntaxNode? declaration)
    {
        switch (declaration)
        {
            case PropertyDeclarationSyntax property:
                if (property.Initializer is { } initializer)
                {
                    yield return initializer.Value;
                }

                if (property.ExpressionBody is { } body)
                {
                    yield return body.Expression;
                }

                foreach (var accessor in property.AccessorList?.Accessors ?? default)
                {
                    if (accessor.IsKind(SyntaxKind.GetAccessorDeclaration) && accessor.ExpressionBody is { } getter)
                    {
                        yield return getter.Expression;
                    }
                }

                break;
            case VariableDeclarationSyntax field:
                foreach (var variable in field.Variables)
                {
                    if (variable.Initializer is { } value)
                    {
                        yield return value.Value;
                    }
                }

                break;
        }
    }

    private static ExpressionSyntax Convert(ExpressionSyntax value, TypeSyntax originalType, Shape shape)
    {
        // A target-typed new() loses its type once the member is retyped: name the original collection type.
        if (value is ImplicitObjectCreationExpressionSyntax implicitCreation)
        {
            value = SyntaxFactory.ObjectCreationExpression(
                originalType.WithoutTrivia().WithTrailingTrivia(SyntaxFactory.Space),
                implicitCreation.Initializer is null || implicitCreation.ArgumentList.Arguments.Count > 0 ? implicitCreation.ArgumentList : null,
                implicitCreation.Initializer);
        }

        if (shape != Shape.Dictionary)
        {
            IEnumerable<ExpressionSyntax>? elements = value switch
            {
                CollectionExpressionSyntax => null,
                ArrayCreationExpressionSyntax { Initializer: { } initializer } => initializer.Expressions,
                ImplicitArrayCreationExpressionSyntax { Initializer: var initializer } => initializer.Expressions,
                BaseObjectCreationExpressionSyntax { ArgumentList.Arguments.Count: > 0 } => null,
                BaseObjectCreationExpressionSyntax { Initializer: { } initializer } when initializer.IsKind(SyntaxKind.CollectionInitializerExpression) => initializer.Expressions,
                BaseObjectCreationExpressionSyntax { Initializer: null } => [],
                _ => null,
            };

            if (value is CollectionExpressionSyntax)
            {
                return value;
            }

            if (elements is not null)
            {
                return SyntaxFactory.CollectionExpression(
                    SyntaxFactory.SeparatedList<CollectionElementSyntax>(elements.Select(e => SyntaxFactory.ExpressionElement(e.WithoutTrivia()))));
            }
        }

        var method = shape switch
        {
            Shape.Dictionary => "ToImmutableDictionary",
            Shape.Set => "ToImmutableHashSet",
            _ => "ToImmutableArray",
        };
        var receiver = value is IdentifierNameSyntax or MemberAccessExpressionSyntax or InvocationExpressionSyntax or ElementAccessExpressionSyntax or ObjectCreationExpressionSyntax
            ? value.WithoutTrivia()
            : SyntaxFactory.ParenthesizedExpression(value.WithoutTrivia());
        return SyntaxFactory.InvocationExpression(
            SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, receiver, SyntaxFactory.IdentifierName(method)));
    }
}
