using System;

namespace Kiln.Analyzers.Infrastructure;

/// <summary>
/// A registry image reference as written in a spec (<c>[registry[:port]/]repository[:tag][@digest]</c>), split the way
/// the distribution reference grammar splits it. Only what the rules need; the engine does the full validation.
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
    public bool IsPinned => Digest is not null && (IsHex(Digest, "sha256:", 64) || IsHex(Digest, "sha512:", 128));

    private static bool IsHex(string digest, string algorithm, int length)
    {
        if (digest.Length != algorithm.Length + length || !digest.StartsWith(algorithm, StringComparison.Ordinal))
        {
            return false;
        }

        for (var i = algorithm.Length; i < digest.Length; i++)
        {
            var c = digest[i];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            {
                return false;
            }
        }

        return true;
    }

    public static ImageReference Parse(string reference)
    {
        string? digest = null;
        var at = reference.IndexOf('@');
        if (at >= 0)
        {
            digest = reference.Substring(at + 1);
            reference = reference.Substring(0, at);
        }

        string? tag = null;
        var lastSlash = reference.LastIndexOf('/');
        var colon = reference.IndexOf(':', lastSlash + 1);
        if (colon >= 0)
        {
            tag = reference.Substring(colon + 1);
            reference = reference.Substring(0, colon);
        }

        var registry = "docker.io";
        var repository = reference;
        var firstSlash = reference.IndexOf('/');
        if (firstSlash > 0)
        {
            var first = reference.Substring(0, firstSlash);
            if (first.IndexOf('.') >= 0 || first.IndexOf(':') >= 0 || first == "localhost")
            {
                registry = first;
                repository = reference.Substring(firstSlash + 1);
            }
        }
        else
        {
            repository = "library/" + reference;
        }

        if (string.Equals(registry, "index.docker.io", StringComparison.OrdinalIgnoreCase)
            || string.Equals(registry, "registry-1.docker.io", StringComparison.OrdinalIgnoreCase))
        {
            registry = "docker.io";
        }

        return new ImageReference(registry.ToLowerInvariant(), repository, tag, digest);
    }
}
