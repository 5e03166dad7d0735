using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using Microsoft.CodeAnalysis.Text;

namespace Kiln.Analyzers.Infrastructure;

/// <summary>
/// Registrations scoped to spec types, so that the rest of a user's code costs nothing; the spec-type test runs once
/// per type. Rules still see operations, but through syntax actions on each block of code: the block is skipped
/// unless its tokens pass the rule's <see cref="SyntaxFilter"/>, and otherwise its operations come from the semantic
/// model the compiler hands over with the bound body. Operation and operation-block actions made the driver build an
/// operation tree for every member of every spec and run every rule over it, which cost a spec-heavy project about
/// half its compile time while the rules themselves reported a tenth of a second (see build/bench-analyzers.sh).
/// </summary>
internal static class SpecActions
{
    // The syntax of executable code: method-like bodies, property and accessor bodies, initializers. Actions on these
    // run when the compiler has bound the member, with a semantic model that reuses its bound nodes.
    private static readonly ImmutableArray<SyntaxKind> CodeBlockKinds =
    [
        SyntaxKind.MethodDeclaration,
        SyntaxKind.ConstructorDeclaration,
        SyntaxKind.DestructorDeclaration,
        SyntaxKind.OperatorDeclaration,
        SyntaxKind.ConversionOperatorDeclaration,
        SyntaxKind.GetAccessorDeclaration,
        SyntaxKind.SetAccessorDeclaration,
        SyntaxKind.InitAccessorDeclaration,
        SyntaxKind.AddAccessorDeclaration,
        SyntaxKind.RemoveAccessorDeclaration,
        SyntaxKind.ArrowExpressionClause,
        SyntaxKind.EqualsValueClause,
    ];

    /// <summary>
    /// Runs <paramref name="action"/> on operations of the given kinds inside ServerSpec/DeploymentSpec types only,
    /// in the members that pass <paramref name="filter"/>.
    /// </summary>
    public static void RegisterOperationAction(
        CompilationStartAnalysisContext context,
        SpecTypes types,
        SyntaxFilter filter,
        Action<SpecOperationContext> action,
        params OperationKind[] kinds) =>
        RegisterOperationAction(context, types, types.IsSpec, filter, action, kinds);

    /// <summary>As <see cref="RegisterOperationAction(CompilationStartAnalysisContext, SpecTypes, SyntaxFilter, Action{SpecOperationContext}, OperationKind[])"/>, in the types <paramref name="isScope"/> accepts.</summary>
    public static void RegisterOperationAction(
        CompilationStartAnalysisContext context,
        SpecTypes types,
        Func<INamedTypeSymbol, bool> isScope,
        SyntaxFilter filter,
        Action<SpecOperationContext> action,
        params OperationKind[] kinds)
    {
        var wanted = ImmutableHashSet.Create(kinds);
        RegisterCodeBlockAction(context, isScope, nodeContext =>
        {
            // The member's own name counts: `bool Privileged => true;` spells it outside the block.
            var matches = filter.Matches(nodeContext.Node) || filter.Matches(OwnerName(nodeContext.ContainingSymbol));
            var follows = IsOverrideGetter(nodeContext.Node);
            if (!(matches || follows) || CodeBlock(nodeContext) is not var (root, containingSymbol))
            {
                return;
            }

            if (matches)
            {
                foreach (var operation in root.DescendantsAndSelf())
                {
                    if (wanted.Contains(operation.Kind))
                    {
                        action(new SpecOperationContext(operation, containingSymbol, nodeContext.Options, nodeContext.ReportDiagnostic, nodeContext.CancellationToken));
                    }
                }
            }

            if (follows)
            {
                // Followed once per getter and compilation, then shared by every rule.
                var followed = types.FollowedHelpers.GetOrAdd(nodeContext.Node, _ =>
                {
                    var found = ImmutableArray.CreateBuilder<FollowedOperation>();
                    FollowHelpers(root, null, 0, new HashSet<SyntaxNode>(), found);
                    return found.ToImmutable();
                });
                foreach (var operation in followed)
                {
                    // A helper inside a scope type is analysed where it is declared.
                    if (wanted.Contains(operation.Operation.Kind) && !isScope(operation.DeclaringType))
                    {
                        action(new SpecOperationContext(operation.Operation, containingSymbol, nodeContext.Options, Relocate(nodeContext.ReportDiagnostic, operation.ReportAt), nodeContext.CancellationToken));
                    }
                }
            }
        });
    }

    /// <summary>
    /// Whether a block is the getter of an overridden property (<c>Base</c>, <c>Account</c>, <c>Ports</c>…): the values a
    /// spec hands to Kiln, which may come from helpers declared outside any spec (<c>Base => Bases.Runtime;</c>).
    /// </summary>
    private static bool IsOverrideGetter(SyntaxNode node)
    {
        var property = node switch
        {
            ArrowExpressionClauseSyntax { Parent: PropertyDeclarationSyntax p } => p,
            AccessorDeclarationSyntax { RawKind: (int)SyntaxKind.GetAccessorDeclaration, Parent.Parent: PropertyDeclarationSyntax p } => p,
            EqualsValueClauseSyntax { Parent: PropertyDeclarationSyntax p } => p,
            _ => null,
        };
        return property is not null && property.Modifiers.Any(SyntaxKind.OverrideKeyword);
    }

    /// <summary>
    /// Collects the operations of the helpers a spec's value comes from: a readonly field's initializer, a helper
    /// property's or method's one returned expression, followed through helpers of helpers. Each operation comes with
    /// the type that declares it and the location of the reference in the spec, where its diagnostics are reported.
    /// </summary>
    private static void FollowHelpers(IOperation scope, Location? reportAt, int depth, HashSet<SyntaxNode> visited, ImmutableArray<FollowedOperation>.Builder found)
    {
        if (depth > 4)
        {
            return;
        }

        foreach (var operation in scope.DescendantsAndSelf())
        {
            var member = operation switch
            {
                IFieldReferenceOperation field => (ISymbol)field.Field,
                IPropertyReferenceOperation property => property.Property,
                IInvocationOperation invocation => invocation.TargetMethod,
                _ => null,
            };
            if (member?.ContainingType is not { } type
                || member.DeclaringSyntaxReferences.IsEmpty
                || ConstantValues.Definition(operation, null, out _) is not { } definition
                || !visited.Add(definition.Syntax))
            {
                continue;
            }

            var at = reportAt ?? operation.Syntax.GetLocation();
            foreach (var inner in definition.DescendantsAndSelf())
            {
                found.Add(new FollowedOperation(inner, at, type));
            }

            FollowHelpers(definition, at, depth + 1, visited, found);
        }
    }

    /// <summary>Reports a diagnostic found in a helper at the spec's reference to that helper instead.</summary>
    private static Action<Diagnostic> Relocate(Action<Diagnostic> report, Location at) => diagnostic =>
        report(Diagnostic.Create(
            diagnostic.Id,
            diagnostic.Descriptor.Category,
            diagnostic.GetMessage(CultureInfo.InvariantCulture),
            diagnostic.Severity,
            diagnostic.DefaultSeverity,
            diagnostic.Descriptor.IsEnabledByDefault,
            diagnostic.WarningLevel,
            diagnostic.Descriptor.Title,
            diagnostic.Descriptor.Description,
            diagnostic.Descriptor.HelpLinkUri,
            at,
            additionalLocations: null,
            diagnostic.Descriptor.CustomTags,
            diagnostic.Properties));

    /// <summary>
    /// Runs <paramref name="action"/> on each value returned by a server spec's override of the ServerSpec property
    /// <paramref name="propertyName"/> (<c>public override string Version => "1.0.0";</c> gives the literal).
    /// </summary>
    public static void RegisterPropertyValueAction(
        CompilationStartAnalysisContext context,
        SpecTypes types,
        string propertyName,
        Action<SpecOperationContext, IPropertySymbol, IOperation> action) =>
        RegisterCodeBlockAction(context, types.IsServerSpec, nodeContext =>
        {
            var declaration = nodeContext.Node switch
            {
                ArrowExpressionClauseSyntax { Parent: PropertyDeclarationSyntax p } => p,
                AccessorDeclarationSyntax { RawKind: (int)SyntaxKind.GetAccessorDeclaration, Parent.Parent: PropertyDeclarationSyntax p } => p,
                // `public override string Version { get; } = "1.0.0";`
                EqualsValueClauseSyntax { Parent: PropertyDeclarationSyntax p } => p,
                _ => null,
            };
            if (declaration is null
                || declaration.Identifier.ValueText != propertyName
                || nodeContext.SemanticModel.GetDeclaredSymbol(declaration, nodeContext.CancellationToken) is not { } property
                || !types.IsServerSpecProperty(property, propertyName)
                || CodeBlock(nodeContext) is not var (root, getter))
            {
                return;
            }

            foreach (var value in ReturnedValues(root))
            {
                action(new SpecOperationContext(value, getter, nodeContext.Options, nodeContext.ReportDiagnostic, nodeContext.CancellationToken), property, value);
            }
        });

    /// <summary>
    /// Reports <paramref name="rule"/> (with the value as its first argument) on each constant string a server spec's
    /// override of <paramref name="propertyName"/> returns that <paramref name="isValid"/> rejects.
    /// </summary>
    public static void RegisterStringPropertyCheck(
        CompilationStartAnalysisContext context,
        SpecTypes types,
        string propertyName,
        DiagnosticDescriptor rule,
        Func<string, bool> isValid) =>
        RegisterPropertyValueAction(context, types, propertyName, (blockContext, property, value) =>
        {
            // Each value the property can return (both branches of a ternary…) is checked where the spec writes it, once.
            var reported = new HashSet<(string, TextSpan)>();
            foreach (var known in value.PossibleStrings())
            {
                var text = (string)known.Value!;
                if (!isValid(text) && reported.Add((text, known.Origin.Syntax.Span)))
                {
                    blockContext.ReportDiagnostic(Diagnostic.Create(rule, known.Origin.Syntax.GetLocation(), text));
                }
            }
        });

    /// <summary>Runs <paramref name="action"/> on each block of executable code in the types <paramref name="isScope"/> accepts.</summary>
    private static void RegisterCodeBlockAction(
        CompilationStartAnalysisContext context,
        Func<INamedTypeSymbol, bool> isScope,
        Action<SyntaxNodeAnalysisContext> action)
    {
        // The scope is decided once a type and remembered for the compilation.
        var scopes = new ConcurrentDictionary<INamedTypeSymbol, bool>(SymbolEqualityComparer.Default);
        context.RegisterSyntaxNodeAction(
            nodeContext =>
            {
                if (IsCodeBlock(nodeContext.Node)
                    && nodeContext.ContainingSymbol?.ContainingType is { } type
                    && scopes.GetOrAdd(type, isScope))
                {
                    action(nodeContext);
                }
            },
            CodeBlockKinds);
    }

    /// <summary>Whether a node of <see cref="CodeBlockKinds"/> is a member's own code, not a part of a larger block (a local's initializer, a local function's body).</summary>
    private static bool IsCodeBlock(SyntaxNode node) => node switch
    {
        ArrowExpressionClauseSyntax arrow => arrow.Parent is PropertyDeclarationSyntax or IndexerDeclarationSyntax,
        EqualsValueClauseSyntax equals => equals.Parent switch
        {
            VariableDeclaratorSyntax { Parent.Parent: BaseFieldDeclarationSyntax } => true,
            PropertyDeclarationSyntax => true,
            ParameterSyntax { Parent.Parent: BaseMethodDeclarationSyntax or IndexerDeclarationSyntax } => true,
            _ => false,
        },
        _ => true,
    };

    /// <summary>The operation tree of a code block, and the symbol it belongs to (an expression-bodied property's is its getter).</summary>
    private static (IOperation Root, ISymbol ContainingSymbol)? CodeBlock(SyntaxNodeAnalysisContext nodeContext)
    {
        var model = nodeContext.SemanticModel;
        var node = nodeContext.Node;
        if (model.GetOperation(node, nodeContext.CancellationToken) is not { } root)
        {
            return null;
        }

        ISymbol? symbol = node switch
        {
            ArrowExpressionClauseSyntax { Parent: BasePropertyDeclarationSyntax property } =>
                (model.GetDeclaredSymbol(property, nodeContext.CancellationToken) as IPropertySymbol)?.GetMethod,
            EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax variable } => model.GetDeclaredSymbol(variable, nodeContext.CancellationToken),
            EqualsValueClauseSyntax { Parent: { } parent } => model.GetDeclaredSymbol(parent, nodeContext.CancellationToken),
            _ => model.GetDeclaredSymbol(node, nodeContext.CancellationToken),
        };
        return symbol is null ? null : (root, symbol);
    }

    private static string OwnerName(ISymbol? symbol) => symbol is IMethodSymbol { AssociatedSymbol: { } owner } ? owner.Name : symbol?.Name ?? string.Empty;

    private static IEnumerable<IOperation> ReturnedValues(IOperation root)
    {
        // An auto-property's initializer is its value unless a constructor assigns the property.
        if (root is IPropertyInitializerOperation { InitializedProperties.Length: 1, Value: var initial } initializer)
        {
            var property = initializer.InitializedProperties[0];
            if (!ConstantValues.AssignedInConstructor(property.ContainingType, property.Name))
            {
                yield return initial.WalkDownConversion();
            }

            yield break;
        }

        foreach (var operation in root.DescendantsAndSelf())
        {
            if (operation is IReturnOperation { ReturnedValue: { } value } && !operation.IsInsideFunction())
            {
                yield return value.WalkDownConversion();
            }
        }
    }
}

/// <summary>An operation of a helper a spec uses, the type declaring the helper, and where in the spec to report it.</summary>
internal readonly struct FollowedOperation
{
    public FollowedOperation(IOperation operation, Location reportAt, INamedTypeSymbol declaringType)
    {
        Operation = operation;
        ReportAt = reportAt;
        DeclaringType = declaringType;
    }

    public IOperation Operation { get; }

    public Location ReportAt { get; }

    public INamedTypeSymbol DeclaringType { get; }
}
