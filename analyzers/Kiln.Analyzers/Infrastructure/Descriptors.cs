using Microsoft.CodeAnalysis;

namespace Kiln.Analyzers.Infrastructure;

/// <summary>Builds descriptors the same way for every rule: category, help link to the rule's section, enabled by default.</summary>
internal static class Descriptors
{
    public const string HelpBase = "https://github.com/kiln-build/kiln/blob/main/docs/analyzers.md#";

    public const string Immutability = "Kiln.Immutability";
    public const string Pinning = "Kiln.Pinning";
    public const string Security = "Kiln.Security";
    public const string Determinism = "Kiln.Determinism";
    public const string Correctness = "Kiln.Correctness";
    public const string Deployment = "Kiln.Deployment";

    public static DiagnosticDescriptor Create(
        string id,
        string title,
        string message,
        string category,
        DiagnosticSeverity severity,
        string description,
        params string[] customTags) =>
        new(id, title, message, category, severity, isEnabledByDefault: true, description,
            helpLinkUri: HelpBase + id.ToLowerInvariant(), customTags);
}
