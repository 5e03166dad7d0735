using System;
using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Kiln.Analyzers.Infrastructure;

/// <summary>
/// A cheap test on a block of code's tokens that says whether a rule could report anything in it: the names the
/// rule's operations must spell, whether it looks at object creations (whose type <c>new(…)</c> need not spell), at
/// <c>typeof</c> and generic arguments, or at string literals. A block that fails it never has its operations built
/// for the rule.
/// </summary>
internal sealed class SyntaxFilter
{
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private bool _everything;

    public SyntaxFilter(params string[] names) => _names.UnionWith(names);

    /// <summary>Every member passes: for scopes that are rare (deployment specs). Shared: never add names to it.</summary>
    public static SyntaxFilter Everything { get; } = new() { _everything = true };

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

    /// <summary>Whether <paramref name="name"/> is one of the names the rule looks for.</summary>
    public bool Matches(string name) => _everything || _names.Contains(name);

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
