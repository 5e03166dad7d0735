using System.Collections.Immutable;
using System.Security.Cryptography;

namespace Kiln.Oci;

/// <summary>What is wrong with one blob of a layout.</summary>
public enum BlobProblem
{
    /// <summary>Referenced but absent.</summary>
    Missing,

    /// <summary>Its content hashes to another digest.</summary>
    WrongDigest,

    /// <summary>Its size differs from the referencing descriptor's.</summary>
    WrongSize,

    /// <summary>An index or manifest that does not parse.</summary>
    Malformed,

    /// <summary>Present but referenced by nothing (harmless: garbage a later build collects).</summary>
    Unreferenced,
}

/// <summary>One finding of <see cref="LayoutChecker"/>; <see cref="IsError"/> is false for
/// <see cref="BlobProblem.Unreferenced"/>, which is information only.</summary>
/// <param name="ReferencedBy">"index.json" or the digest of the index or manifest naming the blob; null when unreferenced.</param>
public sealed record BlobFinding(Digest Digest, BlobProblem Problem, string Detail, string? ReferencedBy)
{
    public bool IsError => Problem != BlobProblem.Unreferenced;
}

/// <summary>The outcome of <see cref="LayoutChecker.Check"/>.</summary>
/// <param name="Checked">How many referenced blobs were hashed.</param>
public sealed record LayoutCheckResult(string Root, int Checked, ImmutableArray<BlobFinding> Findings)
{
    public bool IsValid => !Findings.Any(f => f.IsError);
}

/// <summary>
/// Checks an OCI image layout the way a consumer would read it: every blob reachable from index.json (indexes,
/// manifests, configs, layers, subjects) exists, has the size its descriptor says and hashes to its digest; every
/// index and manifest parses. Blobs nothing references are reported as information.
/// </summary>
public static class LayoutChecker
{
    /// <exception cref="OciFormatException">The directory is not a layout, or index.json does not parse.</exception>
    public static LayoutCheckResult Check(string path)
    {
        var layout = OciLayout.Open(path);
        if (!File.Exists(Path.Combine(layout.Root, OciLayout.IndexFileName)))
        {
            throw new OciFormatException($"'{layout.Root}' is not an OCI image layout: it has no {OciLayout.IndexFileName}.");
        }

        var findings = new List<BlobFinding>();
        var seen = new HashSet<Digest>();
        var pending = new Stack<(Descriptor Descriptor, string ReferencedBy)>(layout.ReadIndex().Manifests.Reverse().Select(m => (m, OciLayout.IndexFileName)));
        var checkedCount = 0;
        while (pending.TryPop(out var item))
        {
            var (descriptor, referencedBy) = item;
            if (!seen.Add(descriptor.Digest))
            {
                continue;
            }

            checkedCount++;
            var problem = Inspect(layout, descriptor, out var detail);
            if (problem is not null)
            {
                findings.Add(new BlobFinding(descriptor.Digest, problem.Value, detail, referencedBy));
                continue;
            }

            try
            {
                foreach (var child in Children(layout, descriptor))
                {
                    pending.Push((child, descriptor.Digest.ToString()));
                }
            }
            catch (OciFormatException e)
            {
                findings.Add(new BlobFinding(descriptor.Digest, BlobProblem.Malformed, e.Message, referencedBy));
            }
        }

        foreach (var directory in Directory.EnumerateDirectories(Path.Combine(layout.Root, "blobs")).Order(StringComparer.Ordinal))
        {
            foreach (var file in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
            {
                if (Digest.TryParse($"{Path.GetFileName(directory)}:{Path.GetFileName(file)}", out var digest) && !seen.Contains(digest))
                {
                    findings.Add(new BlobFinding(digest, BlobProblem.Unreferenced, "no index or manifest of the layout names it", null));
                }
            }
        }

        return new LayoutCheckResult(layout.Root, checkedCount, [.. findings]);
    }

    private static BlobProblem? Inspect(OciLayout layout, Descriptor descriptor, out string detail)
    {
        var path = layout.GetBlobPath(descriptor.Digest);
        if (!File.Exists(path))
        {
            detail = $"{descriptor.MediaType} blob is missing";
            return BlobProblem.Missing;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        if (stream.Length != descriptor.Size)
        {
            detail = $"{descriptor.MediaType} blob has {stream.Length} bytes, its descriptor says {descriptor.Size}";
            return BlobProblem.WrongSize;
        }

        if (descriptor.Digest.Algorithm != Digest.Sha256Algorithm)
        {
            detail = $"digest algorithm '{descriptor.Digest.Algorithm}' is not checked";
            return null;
        }

        var actual = Convert.ToHexStringLower(SHA256.HashData(stream));
        if (actual != descriptor.Digest.Encoded)
        {
            detail = $"{descriptor.MediaType} blob content hashes to sha256:{actual}";
            return BlobProblem.WrongDigest;
        }

        detail = "";
        return null;
    }

    private static IEnumerable<Descriptor> Children(OciLayout layout, Descriptor descriptor)
    {
        if (MediaTypes.IsIndex(descriptor.MediaType))
        {
            var index = layout.ReadImageIndex(descriptor.Digest);
            return index.Subject is null ? index.Manifests : index.Manifests.Append(index.Subject);
        }

        if (MediaTypes.IsManifest(descriptor.MediaType))
        {
            var manifest = layout.ReadManifest(descriptor.Digest);
            IEnumerable<Descriptor> children = [manifest.Config, .. manifest.Layers];
            return manifest.Subject is null ? children : children.Append(manifest.Subject);
        }

        return [];
    }
}
