using System.Collections.Immutable;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Lock;
using Kiln.Engine.Manifests;

namespace Kiln.Engine.Diff;

/// <summary>One version of a server in its history.</summary>
/// <param name="Changes">A summary of what changed from the parent, or null when either manifest is not at hand.</param>
public sealed record VersionHistoryEntry(string Version, string Digest, string? Parent, string? Changes)
{
    /// <summary>Why the version exists, from the lock's lineage: the package update it carries (null when none).</summary>
    public Lock.PackageSetUpdate? Reason { get; init; }
}

/// <summary>The inputs of <c>kiln history</c>.</summary>
/// <param name="LockFile">The project's kiln.lock.json.</param>
/// <param name="ManifestDirectories">Directories holding Kiln manifests of this and earlier builds (searched recursively).</param>
public sealed record HistoryRequest(string Name, string LockFile, ImmutableArray<string> ManifestDirectories);

/// <summary>
/// <c>kiln history NAME</c>: every version the lock records, with its digest and parent, and — where the manifests of
/// both a version and its parent are at hand — what changed between them.
/// </summary>
internal static class VersionHistory
{
    public static ImmutableArray<VersionHistoryEntry> History(HistoryRequest request)
    {
        if (!File.Exists(request.LockFile))
        {
            throw new KilnException(DiagnosticCodes.ArtifactNotFound, $"The lock file '{request.LockFile}' does not exist. Run 'kiln history' in the spec project's directory (or pass --project), after a build.");
        }

        var lockFile = KilnLock.Load(request.LockFile);
        if (!lockFile.Servers.TryGetValue(request.Name, out var versions))
        {
            throw new KilnException(DiagnosticCodes.ArtifactNotFound, $"The lock '{request.LockFile}' records no server '{request.Name}'. It records: {string.Join(", ", lockFile.Servers.Keys)}.");
        }

        var manifests = new Dictionary<string, ManifestDocument>(StringComparer.Ordinal);
        foreach (var directory in request.ManifestDirectories.Where(Directory.Exists))
        {
            foreach (var file in Directory.EnumerateFiles(directory, request.Name + "-*.json", SearchOption.AllDirectories))
            {
                try
                {
                    // A multi-platform server's file holds every platform; its first stands for the version here.
                    var m = ManifestDocument.Load(file);
                    if (m.Name == request.Name && versions.TryGetValue(m.Version, out var locked) && locked.Digest == m.ServerDigest)
                    {
                        manifests.TryAdd(m.Version, m);
                    }
                }
                catch (KilnException)
                {
                    // another tool's JSON with a similar name is not part of the history
                }
            }
        }

        return [.. versions.OrderBy(v => v.Key, SemanticVersionComparer.Instance).Select(v =>
            new VersionHistoryEntry(v.Key, v.Value.Digest, v.Value.Parent, Summarize(v.Value.Parent, v.Key, manifests)) { Reason = v.Value.Reason })];
    }

    private static string? Summarize(string? parent, string version, Dictionary<string, ManifestDocument> manifests)
    {
        if (parent is null)
        {
            return "first version";
        }

        if (!manifests.TryGetValue(parent, out var before) || !manifests.TryGetValue(version, out var after))
        {
            return null;
        }

        var diff = ManifestDiff.Diff([before], [after]);
        var parts = new List<string>();
        if (!diff.Settings.IsEmpty)
        {
            parts.Add("settings: " + string.Join(", ", diff.Settings.Select(s => s.Setting)));
        }

        if (!diff.Packages.IsEmpty)
        {
            parts.Add("packages: " + string.Join(", ", diff.Packages.Select(p => $"{p.Package} {p.Change}")));
        }

        if (!diff.Files.IsEmpty)
        {
            parts.Add($"files: {diff.Files.Count(f => f.Change == "added")} added, {diff.Files.Count(f => f.Change == "removed")} removed, {diff.Files.Count(f => f.Change == "modified")} modified");
        }

        return parts.Count == 0 ? "no change" : string.Join("; ", parts);
    }
}
