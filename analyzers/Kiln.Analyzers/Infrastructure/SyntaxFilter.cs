using System;
using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Kiln.Analyzers.Infrastructure;

/// <summary>
/// A cheap test on a member's tokens that says whether a rule could report anything in it: the names the rule's
/// operations must spell, whether it looks at object creations (whose type <c>new(…)</c> need not spell), at
/// <c>typeof</c> and generic arguments, or at string literals. A member that fails it is never bound for the rule.
/// </summary>
internal sealed class SyntaxFilter
{
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public SyntaxFilter(params string[] names) => _names.UnionWith(names);

    /// <summary>Every member passes: for scopes that are rare (deployment specs) or rules that need the whole body.</summary>
    public static SyntaxFilter Everything { get; } = new() { _everything = true };

    private bool _everything;

    /// <summary>Object creations, explicit or target-typed, pass.</summary>
    public bool ObjectCreations { get; set; }

    /// <summary><c>typeof</c> and type argument lists pass.</summary>
    public bool TypeArguments { get; set; }

    /// <summary>String literals (and interpolated text) for which this returns true pass.</summary>
    public Func<string, bool>? Strings { get; set; }

    /// <summary>Adds a type's name and the names of the members it declares (not those it inherits).</summary>
    public SyntaxFilter WithType(INamedTypeSymbol? type)
    {
        if (type is not null)
        {
            _names.Add(type.Name);
            _names.UnionWith(type.MemberNames);
        }

        return this;
    }

    public SyntaxFilter WithNames(IEnumerable<string> names)
    {
        _names.UnionWith(names);
        return this;
    }

    public bool Matches(SyntaxNode node)
    {
        if (_everything)
        {
            return true;
        }

        foreach (var token in node.DescendantTokens())
        {
            switch (token.Kind())
            {
                case SyntaxKind.IdentifierToken when _names.Contains(token.ValueText):
                case SyntaxKind.NewKeyword when ObjectCreations:
                case SyntaxKind.TypeOfKeyword or SyntaxKind.LessThanToken when TypeArguments:
                    return true;
                case SyntaxKind.StringLiteralToken or SyntaxKind.SingleLineRawStringLiteralToken when Strings is not null && Strings(token.ValueText):
                    return true;
                // Raw and interpolated text can differ from the token's value (indentation, escapes): let the operation decide.
                case SyntaxKind.MultiLineRawStringLiteralToken or SyntaxKind.InterpolatedStringTextToken when Strings is not null:
                    return true;
            }
        }

        return false;
    }
}
