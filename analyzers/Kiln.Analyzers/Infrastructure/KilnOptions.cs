using System;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Infrastructure;

/// <summary>
/// Kiln's .editorconfig options (severities need none: <c>dotnet_diagnostic.KILN0005.severity</c> is built in).
/// Read per syntax tree, so that a section of .editorconfig can set them for part of a project.
/// </summary>
internal static class KilnOptions
{
    /// <summary>Tags that move: replaced by <c>kiln.mutable_tags</c> when set.</summary>
    public static readonly ImmutableArray<string> DefaultMutableTags =
        ["latest", "stable", "edge", "main", "master", "dev", "develop", "nightly", "next", "current", "lts", "mainline", "testing", "unstable", "rolling"];

    public const string MutableTagsKey = "kiln.mutable_tags";
    public const string AllowedRegistriesKey = "kiln.allowed_registries";
    public const string RequirePackagePinsKey = "kiln.require_package_pins";
    public const string LockModeProperty = "build_property.KilnLockMode";

    /// <summary>
    /// Set by Kiln.Build.targets when it made KilnLockMode Off only because the configuration is not the locked one
    /// (a Debug build): the versions part of the lock is off, but kiln.lock.json still pins the packages.
    /// </summary>
    public const string LockModeDerivedProperty = "build_property._KilnLockModeDerived";

    public static ImmutableArray<string> MutableTags(AnalyzerOptions options, SyntaxTree tree) =>
        TryGetList(options, tree, MutableTagsKey, out var tags) ? tags : DefaultMutableTags;

    /// <summary>The allowed registries (host, or host/path prefix); empty when the option is not set, meaning any.</summary>
    public static ImmutableArray<string> AllowedRegistries(AnalyzerOptions options, SyntaxTree tree) =>
        TryGetList(options, tree, AllowedRegistriesKey, out var registries) ? registries : [];

    /// <summary>
    /// Whether Debian packages must carry <c>name=version</c>: <c>kiln.require_package_pins = true</c>, or the MSBuild
    /// property KilnLockMode set to Off/Disabled/None (no kiln.lock.json to pin the versions instead).
    /// </summary>
    public static bool RequirePackagePins(AnalyzerOptions options, SyntaxTree tree)
    {
        var config = options.AnalyzerConfigOptionsProvider.GetOptions(tree);
        if (config.TryGetValue(RequirePackagePinsKey, out var require) || options.AnalyzerConfigOptionsProvider.GlobalOptions.TryGetValue(RequirePackagePinsKey, out require))
        {
            if (bool.TryParse(require.Trim(), out var value))
            {
                return value;
            }
        }

        if ((config.TryGetValue(LockModeDerivedProperty, out var derived) || options.AnalyzerConfigOptionsProvider.GlobalOptions.TryGetValue(LockModeDerivedProperty, out derived))
            && derived.Trim().Equals("true", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (config.TryGetValue(LockModeProperty, out var mode) || options.AnalyzerConfigOptionsProvider.GlobalOptions.TryGetValue(LockModeProperty, out mode))
        {
            mode = mode.Trim();
            return mode.Equals("Off", StringComparison.OrdinalIgnoreCase)
                || mode.Equals("Disabled", StringComparison.OrdinalIgnoreCase)
                || mode.Equals("None", StringComparison.OrdinalIgnoreCase);
        }

        return false;
    }

    private static bool TryGetList(AnalyzerOptions options, SyntaxTree tree, string key, out ImmutableArray<string> values)
    {
        if (!options.AnalyzerConfigOptionsProvider.GetOptions(tree).TryGetValue(key, out var raw)
            && !options.AnalyzerConfigOptionsProvider.GlobalOptions.TryGetValue(key, out raw))
        {
            values = default;
            return false;
        }

        var builder = ImmutableArray.CreateBuilder<string>();
        foreach (var part in raw.Split(','))
        {
            var trimmed = part.Trim();
            if (trimmed.Length > 0)
            {
                builder.Add(trimmed);
            }
        }

        values = builder.ToImmutable();
        return true;
    }
}
