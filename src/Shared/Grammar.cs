// One definition of the grammars that Kiln checks both at compile time (Kiln.Analyzers, netstandard2.0) and at
// evaluation and transport (Kiln.Engine, Kiln.Oci, net10.0): linked as source into each, so that the analyzers and
// the engine can never disagree on what a valid name, version or reference is. Hand-written scanners, not regular
// expressions: linear in the input, no timeout that could turn a valid value into "no match" on a loaded machine.
// Only netstandard2.0 BCL APIs and no language feature newer than the repository's LangVersion.
using System;

namespace Kiln.Shared;

/// <summary>The reasons <see cref="Grammar.CheckVersion"/> gives.</summary>
internal enum VersionProblem
{
    /// <summary>A SemVer 2.0.0 version without build metadata: valid as a Kiln version and an image tag.</summary>
    None,

    /// <summary>Valid SemVer 2.0.0, but with build metadata (<c>+…</c>), which an image tag cannot hold.</summary>
    BuildMetadata,

    /// <summary>Not SemVer 2.0.0 (or longer than <see cref="Grammar.MaxVersionLength"/>).</summary>
    NotSemVer,
}

/// <summary>
/// An image reference split at the places the distribution reference grammar splits it
/// (https://github.com/distribution/reference, <c>reference.go</c>), without judging the parts.
/// </summary>
internal readonly struct ReferenceParts
{
    public ReferenceParts(string? domain, string path, string? tag, string? digest)
    {
        Domain = domain;
        Path = path;
        Tag = tag;
        Digest = digest;
    }

    /// <summary>The registry host (and port) as written, or null when the reference names none (Docker Hub).</summary>
    public string? Domain { get; }

    /// <summary>The repository path as written (<c>nginx</c>, <c>library/nginx</c>, <c>acme/shop/api</c>).</summary>
    public string Path { get; }

    public string? Tag { get; }

    public string? Digest { get; }
}

/// <summary>Kiln's shared grammars: server names, versions, tags, repositories, registry hosts, digests and references.</summary>
internal static class Grammar
{
    /// <summary>The longest server name: one repository path component, kept short enough for every registry and Kubernetes label.</summary>
    public const int MaxNameLength = 128;

    /// <summary>The longest version: an image tag is at most 128 characters.</summary>
    public const int MaxVersionLength = 128;

    /// <summary>The longest repository path the distribution spec allows.</summary>
    public const int MaxRepositoryLength = 255;

    /// <summary>
    /// Whether <paramref name="name"/> is a valid Kiln server name: ONE path component of the OCI distribution
    /// grammar (<c>[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*</c>), 1 to <see cref="MaxNameLength"/> characters. A name has no
    /// '/': the path in front of it is the build's KilnRepositoryPrefix.
    /// </summary>
    public static bool IsServerName(string? name) =>
        name is not null && name.Length <= MaxNameLength && IsPathComponent(name, 0, name.Length);

    /// <summary>Whether <paramref name="version"/> is a valid Kiln version: SemVer 2.0.0 without build metadata, at most 128 characters.</summary>
    public static bool IsVersion(string? version) => CheckVersion(version) == VersionProblem.None;

    /// <summary>What, if anything, is wrong with <paramref name="version"/> as a Kiln version.</summary>
    public static VersionProblem CheckVersion(string? version)
    {
        if (version is null || version.Length > MaxVersionLength || !IsSemVer(version, allowBuildMetadata: true))
        {
            return VersionProblem.NotSemVer;
        }

        return version.IndexOf('+') >= 0 ? VersionProblem.BuildMetadata : VersionProblem.None;
    }

    /// <summary>
    /// Whether <paramref name="value"/> is a SemVer 2.0.0 version (https://semver.org/spec/v2.0.0.html):
    /// <c>MAJOR.MINOR.PATCH</c> without leading zeros, an optional pre-release of dot-separated non-empty identifiers
    /// of [0-9A-Za-z-] (numeric ones without leading zeros), and, when allowed, build metadata of non-empty identifiers.
    /// </summary>
    public static bool IsSemVer(string? value, bool allowBuildMetadata)
    {
        if (value is null)
        {
            return false;
        }

        var i = 0;
        if (!NumericIdentifier(value, ref i) || !Expect(value, ref i, '.')
            || !NumericIdentifier(value, ref i) || !Expect(value, ref i, '.')
            || !NumericIdentifier(value, ref i))
        {
            return false;
        }

        if (i < value.Length && value[i] == '-')
        {
            i++;
            if (!DotSeparated(value, ref i, preRelease: true))
            {
                return false;
            }
        }

        if (i < value.Length && value[i] == '+')
        {
            if (!allowBuildMetadata)
            {
                return false;
            }

            i++;
            if (!DotSeparated(value, ref i, preRelease: false))
            {
                return false;
            }
        }

        return i == value.Length;
    }

    /// <summary>Whether <paramref name="tag"/> is an image tag: <c>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}</c>.</summary>
    public static bool IsTag(string? tag)
    {
        if (tag is null || tag.Length is 0 or > 128 || !(IsAlphaNumeric(tag[0]) || tag[0] == '_'))
        {
            return false;
        }

        for (var i = 1; i < tag.Length; i++)
        {
            var c = tag[i];
            if (!(IsAlphaNumeric(c) || c == '_' || c == '.' || c == '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Whether <paramref name="path"/> is a repository path: path components separated by single '/', at most
    /// <see cref="MaxRepositoryLength"/> characters.
    /// </summary>
    public static bool IsRepositoryPath(string? path)
    {
        if (path is null || path.Length is 0 or > MaxRepositoryLength)
        {
            return false;
        }

        var start = 0;
        while (true)
        {
            var slash = path.IndexOf('/', start);
            var end = slash < 0 ? path.Length : slash;
            if (!IsPathComponent(path, start, end))
            {
                return false;
            }

            if (slash < 0)
            {
                return true;
            }

            start = slash + 1;
        }
    }

    /// <summary>
    /// Whether <paramref name="host"/> is a registry host as the reference grammar's domain: DNS labels of
    /// [A-Za-z0-9-] (not starting or ending with '-') separated by '.', or a bracketed IPv6 address, with an optional <c>:port</c>.
    /// </summary>
    public static bool IsRegistryHost(string? host)
    {
        if (host is null || host.Length == 0)
        {
            return false;
        }

        int end;
        if (host[0] == '[')
        {
            end = host.IndexOf(']');
            if (end < 2)
            {
                return false;
            }

            for (var i = 1; i < end; i++)
            {
                if (!(IsHexDigit(host[i]) || host[i] == ':' || host[i] == '.'))
                {
                    return false;
                }
            }

            end++;
        }
        else
        {
            var colon = host.IndexOf(':');
            end = colon < 0 ? host.Length : colon;
            var labelStart = 0;
            for (var i = 0; i <= end; i++)
            {
                if (i < end && host[i] != '.')
                {
                    if (!(IsAlphaNumeric(host[i]) || host[i] == '-'))
                    {
                        return false;
                    }

                    continue;
                }

                // A label ends here: non-empty, and neither end is '-'.
                if (i == labelStart || host[labelStart] == '-' || host[i - 1] == '-')
                {
                    return false;
                }

                labelStart = i + 1;
            }
        }

        if (end == host.Length)
        {
            return true;
        }

        if (host[end] != ':' || end + 1 == host.Length)
        {
            return false;
        }

        for (var i = end + 1; i < host.Length; i++)
        {
            if (!IsDigit(host[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Whether <paramref name="digest"/> is a digest Kiln accepts: <c>sha256:</c> with 64, or <c>sha512:</c> with 128,
    /// lower-case hex digits (the OCI image spec's registered algorithms).
    /// </summary>
    public static bool IsDigest(string? digest) =>
        digest is not null && (IsLowerHex(digest, "sha256:", 64) || IsLowerHex(digest, "sha512:", 128));

    /// <summary>
    /// Splits a reference <c>[domain/]path[:tag][@digest]</c>: the digest after the first '@', the tag after a ':'
    /// that follows the last '/', and the domain when the first component contains '.' or ':' or is <c>localhost</c>
    /// (the distribution project's rule). Never fails; <see cref="IsReference"/> judges the parts.
    /// </summary>
    public static ReferenceParts SplitReference(string reference)
    {
        string? digest = null;
        var at = reference.IndexOf('@');
        if (at >= 0)
        {
            digest = reference.Substring(at + 1);
            reference = reference.Substring(0, at);
        }

        string? tag = null;
        var colon = reference.IndexOf(':', reference.LastIndexOf('/') + 1);
        if (colon >= 0)
        {
            tag = reference.Substring(colon + 1);
            reference = reference.Substring(0, colon);
        }

        string? domain = null;
        var firstSlash = reference.IndexOf('/');
        if (firstSlash >= 0)
        {
            var first = reference.Substring(0, firstSlash);
            if (first.IndexOf('.') >= 0 || first.IndexOf(':') >= 0 || first == "localhost")
            {
                domain = first;
                reference = reference.Substring(firstSlash + 1);
            }
        }

        return new ReferenceParts(domain, reference, tag, digest);
    }

    /// <summary>
    /// Whether <paramref name="reference"/> is a valid image reference (<c>[host[:port]/]repository[:tag][@digest]</c>);
    /// when not, <paramref name="problem"/> says which part is wrong.
    /// </summary>
    public static bool IsReference(string? reference, out string? problem)
    {
        if (reference is null || reference.Length == 0)
        {
            problem = "the reference is empty";
            return false;
        }

        var parts = SplitReference(reference);
        if (parts.Digest is { } digest && !IsDigest(digest))
        {
            problem = $"'{digest}' is not a digest (expected sha256: and 64 lower-case hex digits)";
        }
        else if (parts.Tag is { } tag && !IsTag(tag))
        {
            problem = $"'{tag}' is not a valid tag";
        }
        else if (parts.Domain is { } domain && !IsRegistryHost(domain))
        {
            problem = $"'{domain}' is not a valid registry host";
        }
        else if (!IsRepositoryPath(parts.Path))
        {
            problem = $"'{parts.Path}' is not a valid repository name (lower-case letters, digits and separators)";
        }
        else
        {
            problem = null;
        }

        return problem is null;
    }

    /// <summary>One path component, <c>[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*</c>, over <c>value[start..end)</c>.</summary>
    private static bool IsPathComponent(string value, int start, int end)
    {
        var i = start;
        while (true)
        {
            if (i >= end || !IsLowerAlphaNumeric(value[i]))
            {
                return false;
            }

            while (i < end && IsLowerAlphaNumeric(value[i]))
            {
                i++;
            }

            if (i == end)
            {
                return true;
            }

            switch (value[i])
            {
                case '.':
                    i++;
                    break;
                case '_':
                    i++;
                    if (i < end && value[i] == '_')
                    {
                        i++;
                    }

                    break;
                case '-':
                    while (i < end && value[i] == '-')
                    {
                        i++;
                    }

                    break;
                default:
                    return false;
            }
        }
    }

    private static bool NumericIdentifier(string value, ref int i)
    {
        var start = i;
        while (i < value.Length && IsDigit(value[i]))
        {
            i++;
        }

        return i > start && (i - start == 1 || value[start] != '0');
    }

    /// <summary>Dot-separated identifiers of [0-9A-Za-z-]; in a pre-release, a numeric identifier has no leading zero.</summary>
    private static bool DotSeparated(string value, ref int i, bool preRelease)
    {
        while (true)
        {
            var start = i;
            var numeric = true;
            while (i < value.Length && (IsAlphaNumeric(value[i]) || value[i] == '-'))
            {
                numeric &= IsDigit(value[i]);
                i++;
            }

            if (i == start || (preRelease && numeric && i - start > 1 && value[start] == '0'))
            {
                return false;
            }

            if (i < value.Length && value[i] == '.')
            {
                i++;
                continue;
            }

            return true;
        }
    }

    private static bool Expect(string value, ref int i, char c)
    {
        if (i < value.Length && value[i] == c)
        {
            i++;
            return true;
        }

        return false;
    }

    private static bool IsLowerHex(string value, string algorithm, int length)
    {
        if (value.Length != algorithm.Length + length || !value.StartsWith(algorithm, StringComparison.Ordinal))
        {
            return false;
        }

        for (var i = algorithm.Length; i < value.Length; i++)
        {
            if (!(IsDigit(value[i]) || (value[i] >= 'a' && value[i] <= 'f')))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsDigit(char c) => c >= '0' && c <= '9';

    private static bool IsHexDigit(char c) => IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');

    private static bool IsLowerAlphaNumeric(char c) => IsDigit(c) || (c >= 'a' && c <= 'z');

    private static bool IsAlphaNumeric(char c) => IsLowerAlphaNumeric(c) || (c >= 'A' && c <= 'Z');
}
