using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.IO.Enumeration;
using System.Security.Cryptography;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Manifests;

namespace Kiln.Engine.Drift;

/// <summary>How a path of an instance differs from its image.</summary>
public enum DriftKind
{
    /// <summary>On the instance, not in the image.</summary>
    Added,

    /// <summary>In the image, not on the instance.</summary>
    Removed,

    /// <summary>On both, different (content, mode, owner, type or link target).</summary>
    Changed,
}

/// <summary>One path that drifted.</summary>
/// <param name="Changes">For <see cref="DriftKind.Changed"/>: what changed (content, mode, owner, type, target).</param>
/// <param name="Expected">What the inventory records (type mode uid:gid size), for a changed or removed path.</param>
/// <param name="Actual">What the instance has, for a changed or added path.</param>
public sealed record FileDrift(string Path, DriftKind Kind, ImmutableArray<string> Changes, string? Expected, string? Actual);

/// <summary>The verdict of <c>kiln verify</c>.</summary>
/// <param name="Checked">How many paths of the instance were compared.</param>
/// <param name="Ignored">The subtrees that are not drift (declared volumes, /tmp, runtime mounts).</param>
public sealed record VerifyResult(string Name, string Version, string ImageDigest, string Root, int Checked, ImmutableArray<string> Ignored, ImmutableArray<FileDrift> Drift)
{
    /// <summary>AIDE's convention, bitwise: 1 added, 2 removed, 4 changed; 0 when the instance matches its image.</summary>
    public int ExitCode =>
        (Drift.Any(d => d.Kind == DriftKind.Added) ? 1 : 0)
        | (Drift.Any(d => d.Kind == DriftKind.Removed) ? 2 : 0)
        | (Drift.Any(d => d.Kind == DriftKind.Changed) ? 4 : 0);
}

/// <summary>The inputs of <c>kiln verify</c>.</summary>
/// <param name="Manifest">The image's Kiln manifest, or a release.json that lists it.</param>
/// <param name="Root">The instance's root file system (a running container's rootfs, or an unpacked image).</param>
/// <param name="Inventory">The inventory, when it is not next to the manifest.</param>
/// <param name="MaxParallelism">Threads hashing files; the default is one per core.</param>
public sealed record VerifyRequest(string Manifest, string Root, string? Inventory = null, int MaxParallelism = 0)
{
    /// <summary>
    /// The instance's platform (os/arch): which manifest of a multi-platform server to verify against when
    /// <see cref="Manifest"/> is a release.json. The edge passes <c>--platform</c>, else the host's platform.
    /// </summary>
    public string? Platform { get; init; }
}

/// <summary>
/// Compares an instance's root file system with its image's inventory. Every regular file is hashed (size alone would
/// miss an edit that keeps the length), in parallel; directories and symlinks are compared by metadata and target.
/// </summary>
internal static class InstanceVerifier
{
    /// <summary>
    /// Mount points an OCI runtime supplies (runtime-spec config "Default Filesystems"): what is under them is the
    /// kernel's, and the empty directories a runtime creates for them are not an operator's change.
    /// </summary>
    public static readonly ImmutableArray<string> RuntimeMounts = ["/proc", "/sys", "/dev"];

    /// <summary>
    /// The manifest to verify against: a single-platform server's, or, in a multi-platform server's manifest or a
    /// release.json, the section of the instance's platform. None or several for that platform is KILN2146.
    /// </summary>
    private static ManifestDocument Choose(VerifyRequest request)
    {
        var candidates = ManifestDocument.Resolve(request.Manifest, artifactDirectory: null);
        if (candidates.Length == 1)
        {
            return candidates[0]; // a manifest named directly is the image the user means, whatever the host is
        }

        var matching = candidates.Where(m => m.Platform == request.Platform).ToList();
        return matching.Count == 1
            ? matching[0]
            : throw new KilnException(DiagnosticCodes.VerifyPlatformNotFound, $"'{request.Manifest}' holds {(matching.Count == 0 ? "no" : matching.Count.ToString(System.Globalization.CultureInfo.InvariantCulture))} image{(matching.Count == 1 ? "" : "s")} for platform {request.Platform ?? "(none given)"}; it has: {string.Join(", ", candidates.Select(c => c.DisplayName))}. Pass the instance's platform with --platform (os/arch).");
    }

    public static VerifyResult Verify(VerifyRequest request)
    {
        var manifest = Choose(request);
        var inventory = manifest.LoadInventory(request.Inventory);
        var root = Path.GetFullPath(request.Root);
        if (!Directory.Exists(root))
        {
            throw new KilnException(DiagnosticCodes.RootNotFound, $"The root file system '{request.Root}' does not exist or is not a directory. Pass the instance's rootfs (for runc, the bundle's rootfs/; for a Kubernetes pod, /proc/<pid>/root of its process).");
        }

        ImmutableArray<string> writable = [.. manifest.Volumes.Concat(["/tmp"]).Distinct(StringComparer.Ordinal)];
        ImmutableArray<string> ignored = [.. writable.Concat(RuntimeMounts).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        var seen = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        var drift = new ConcurrentBag<FileDrift>();
        var paths = Walk(root, ignored);
        var options = new ParallelOptions { MaxDegreeOfParallelism = request.MaxParallelism > 0 ? request.MaxParallelism : Environment.ProcessorCount };
        try
        {
            Parallel.ForEach(paths, options, path => Check(path, root, inventory, ignored, writable, seen, drift));
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            // Report what went wrong (a permission, an I/O error), not the parallel loop around it.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }

        foreach (var entry in inventory.Values)
        {
            if (entry.Path != "/" && !seen.ContainsKey(entry.Path) && !IsUnder(entry.Path, ignored))
            {
                drift.Add(new FileDrift(entry.Path, DriftKind.Removed, [], Describe(entry), null));
            }
        }

        return new VerifyResult(manifest.Name, manifest.Version, manifest.ImageDigest, root, paths.Count, ignored,
            [.. drift.OrderBy(d => d.Path, StringComparer.Ordinal)]);
    }

    /// <param name="writable">
    /// The instance's writable mount points (declared volumes, /tmp): the runtime mounts storage of its own there, whose
    /// owner and mode are the volume's (an emptyDir with fsGroup, a tmpfs), so only their type is compared.
    /// </param>
    private static void Check(string path, string root, IReadOnlyDictionary<string, InventoryEntry> inventory, ImmutableArray<string> ignored, ImmutableArray<string> writable, ConcurrentDictionary<string, byte> seen, ConcurrentBag<FileDrift> drift)
    {
        var full = path == "/" ? root : root + path;
        FileStatus status;
        try
        {
            status = FileStatus.Read(full);
        }
        catch (FileNotFoundException)
        {
            return; // deleted while the walk ran (a live instance): it counts as removed when the image has it
        }

        if (!inventory.TryGetValue(path, out var expected))
        {
            if (!IsUnder(path, ignored) && !IsIgnoredRoot(path, ignored))
            {
                drift.Add(new FileDrift(path, DriftKind.Added, [], null, Describe(status)));
            }

            return;
        }

        seen[path] = 0;
        var changes = Compare(expected, status, full);
        if (writable.Contains(path))
        {
            changes = [.. changes.Where(c => c == "type")];
        }

        if (changes.Length > 0)
        {
            drift.Add(new FileDrift(path, DriftKind.Changed, changes, Describe(expected), Describe(status)));
        }
    }

    /// <summary>Every path of the tree as an image path ('/a/b'), without descending into symlinks or ignored subtrees.</summary>
    private static List<string> Walk(string root, ImmutableArray<string> ignored)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false, ReturnSpecialDirectories = false };
        var rootLength = root.TrimEnd('/').Length;
        var enumerable = new FileSystemEnumerable<string>(root, (ref FileSystemEntry e) => e.ToFullPath()[rootLength..], options)
        {
            ShouldRecursePredicate = (ref FileSystemEntry e) =>
                (e.Attributes & FileAttributes.ReparsePoint) == 0 && !IsIgnoredRoot(e.ToFullPath()[rootLength..], ignored) && !IsUnder(e.ToFullPath()[rootLength..], ignored),
        };
        return [.. enumerable];
    }

    private static ImmutableArray<string> Compare(InventoryEntry expected, FileStatus actual, string full)
    {
        if (expected.Type != actual.Type)
        {
            return ["type"];
        }

        var changes = ImmutableArray.CreateBuilder<string>();
        if (actual.Type == 'f' && (expected.Size != actual.Size || !string.Equals(expected.Sha256, Sha256(full), StringComparison.Ordinal)))
        {
            changes.Add("content");
        }

        if (actual.Type == 'l' && !string.Equals(expected.Link, new FileInfo(full).LinkTarget, StringComparison.Ordinal))
        {
            changes.Add("target");
        }

        // A symlink's own permission bits mean nothing on Linux.
        if (actual.Type != 'l' && expected.Mode != actual.Mode)
        {
            changes.Add("mode");
        }

        if (expected.Uid != actual.Uid || expected.Gid != actual.Gid)
        {
            changes.Add("owner");
        }

        return changes.ToImmutable();
    }

    private static string Sha256(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Strictly below one of the subtrees.</summary>
    private static bool IsUnder(string path, ImmutableArray<string> subtrees) =>
        subtrees.Any(s => path.Length > s.Length && path.StartsWith(s, StringComparison.Ordinal) && (s == "/" || path[s.Length] == '/'));

    private static bool IsIgnoredRoot(string path, ImmutableArray<string> subtrees) => subtrees.Contains(path);

    private static string Describe(FileStatus s) => $"{s.Type} {Convert.ToString(s.Mode, 8).PadLeft(4, '0')} {s.Uid}:{s.Gid} {s.Size}";

    private static string Describe(InventoryEntry e) => $"{e.Type} {Convert.ToString(e.Mode, 8).PadLeft(4, '0')} {e.Uid}:{e.Gid} {e.Size}";
}
