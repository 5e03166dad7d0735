using Kiln.Shared;

namespace Kiln.Oci.Registry;

/// <summary>
/// An image reference, <c>registry/repository:tag@sha256:…</c>, parsed as the distribution project's reference grammar
/// does (https://github.com/distribution/reference): the first component is the registry when it contains a dot or a
/// colon or is <c>localhost</c>; otherwise the registry is Docker Hub and one-component names get <c>library/</c>.
/// </summary>
/// <param name="Registry">The registry host (and port), e.g. <c>ghcr.io</c> or <c>127.0.0.1:5000</c>.</param>
/// <param name="Repository">The repository path, e.g. <c>library/debian</c>.</param>
/// <param name="Tag">The tag, if any.</param>
/// <param name="Digest">The manifest digest, if pinned.</param>
public sealed record ImageReference(string Registry, string Repository, string? Tag, Digest? Digest)
{
    /// <summary>The name Docker Hub is known by in references.</summary>
    public const string DockerHub = "docker.io";

    /// <summary>The host the HTTP API is served from (Docker Hub's API lives on registry-1.docker.io).</summary>
    public string ApiHost => Registry == DockerHub ? "registry-1.docker.io" : Registry;

    /// <summary>The reference the registry resolves: the digest when pinned, else the tag.</summary>
    public string Selector => Digest?.ToString() ?? Tag ?? "latest";

    /// <summary>Parses a reference.</summary>
    /// <exception cref="FormatException">The text is not a valid reference; the message says which part.</exception>
    public static ImageReference Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var rest = text.Trim();
        if (rest.Length == 0)
        {
            throw new FormatException("An image reference is empty.");
        }

        Digest? digest = null;
        var at = rest.IndexOf('@');
        if (at >= 0)
        {
            if (!Oci.Digest.TryParse(rest[(at + 1)..], out var parsed))
            {
                throw new FormatException($"'{rest[(at + 1)..]}' in '{text}' is not a digest (expected sha256:<64 hex digits>).");
            }

            digest = parsed;
            rest = rest[..at];
        }

        string? tag = null;
        var lastSlash = rest.LastIndexOf('/');
        var colon = rest.LastIndexOf(':');
        if (colon > lastSlash)
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
            if (!Grammar.IsTag(tag))
            {
                throw new FormatException($"'{tag}' in '{text}' is not a valid tag.");
            }
        }

        string registry;
        string repository;
        var firstSlash = rest.IndexOf('/');
        var first = firstSlash < 0 ? null : rest[..firstSlash];
        if (first is not null && (first.Contains('.') || first.Contains(':') || first == "localhost"))
        {
            registry = first;
            repository = rest[(firstSlash + 1)..];
            if (!Grammar.IsRegistryHost(registry))
            {
                throw new FormatException($"'{registry}' in '{text}' is not a valid registry host.");
            }
        }
        else
        {
            registry = DockerHub;
            repository = firstSlash < 0 ? "library/" + rest : rest;
        }

        if (!Grammar.IsRepositoryPath(repository))
        {
            throw new FormatException($"'{repository}' in '{text}' is not a valid repository name (lower-case letters, digits and separators).");
        }

        return new ImageReference(registry, repository, tag, digest);
    }

    /// <summary>Parses a reference, or returns false with the reason.</summary>
    public static bool TryParse(string text, out ImageReference? reference, out string? error)
    {
        try
        {
            reference = Parse(text);
            error = null;
            return true;
        }
        catch (FormatException e)
        {
            reference = null;
            error = e.Message;
            return false;
        }
    }

    /// <summary>The same image under another tag or digest.</summary>
    public ImageReference With(string? tag, Digest? digest) => this with { Tag = tag, Digest = digest };

    /// <summary><c>registry/repository[:tag][@digest]</c>.</summary>
    public override string ToString() =>
        $"{Registry}/{Repository}{(Tag is null ? "" : ":" + Tag)}{(Digest is null ? "" : "@" + Digest)}";
}
