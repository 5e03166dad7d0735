using System;
using Kiln.Shared;

namespace Kiln.Analyzers.Infrastructure;

/// <summary>
/// A registry image reference as written in a spec (<c>[registry[:port]/]repository[:tag][@digest]</c>), split by the grammar
/// the engine uses too (src/Shared/Grammar.cs). Only what the rules need; the engine does the full validation.
/// </summary>
internal sealed class ImageReference
{
    private ImageReference(string registry, string repository, string? tag, string? digest)
    {
        Registry = registry;
        Repository = repository;
        Tag = tag;
        Digest = digest;
    }

    /// <summary>The registry host (and port); <c>docker.io</c> when the reference names none.</summary>
    public string Registry { get; }

    /// <summary>The repository path inside the registry (<c>library/nginx</c> for <c>nginx</c>).</summary>
    public string Repository { get; }

    public string? Tag { get; }

    public string? Digest { get; }

    /// <summary>A digest is present and well formed (sha256 or sha512, lower-case hex of the right length).</summary>
    public bool IsPinned => Grammar.IsDigest(Digest);

    public static ImageReference Parse(string reference)
    {
        var parts = Grammar.SplitReference(reference);
        var registry = parts.Domain ?? "docker.io";
        var repository = parts.Domain is null && parts.Path.IndexOf('/') < 0 ? "library/" + parts.Path : parts.Path;
        if (string.Equals(registry, "index.docker.io", StringComparison.OrdinalIgnoreCase)
            || string.Equals(registry, "registry-1.docker.io", StringComparison.OrdinalIgnoreCase))
        {
            registry = "docker.io";
        }

        return new ImageReference(registry.ToLowerInvariant(), repository, parts.Tag, parts.Digest);
    }
}
