using System.Collections.Immutable;
using Kiln.Engine.Diagnostics;

namespace Kiln.Engine.Lock;

/// <summary>How a build treats versions the lock already records (see DESIGN.md, "Versions and the lock").</summary>
public enum LockMode
{
    /// <summary>Record what the build produced; a locked version whose digest changed is recorded with a warning.</summary>
    Update,

    /// <summary>A locked version whose digest changed is an error (CI): a released version never means two things.</summary>
    Enforce,

    /// <summary>Versions are neither checked nor recorded: builds of a configuration that is not released (Debug).</summary>
    Off,
}

/// <summary>One image as the lock sees it.</summary>
/// <param name="Name">The server name.</param>
/// <param name="Version">The server version (the image tag).</param>
/// <param name="Digest">The image manifest digest this build produced.</param>
/// <param name="ManifestContentDigest">The Kiln manifest's content digest.</param>
internal sealed record LockCandidate(string Name, string Version, string Digest, string ManifestContentDigest)
{
    /// <summary>The package update of the image's base, when the lock holds one: a new version records it as its reason.</summary>
    public PackageSetUpdate? BaseUpdate { get; init; }

    /// <summary>For a multi-platform server, each platform's manifest digest (os/arch → digest); <see cref="Digest"/> is then the index's.</summary>
    public IReadOnlyDictionary<string, string>? Platforms { get; init; }

    /// <summary>
    /// Whether the build made only some of the server's platforms (KilnPlatforms): <see cref="Digest"/> is then not the
    /// server's real index, so only <see cref="Platforms"/> is checked against the lock and nothing is recorded.
    /// </summary>
    public bool Partial { get; init; }
}

/// <summary>What the lock says about one image after the check: its parent version and that version's digest.</summary>
internal sealed record Lineage(string? ParentVersion, string? ParentDigest);

/// <summary>The lock after a build, the lineage of every image, and the warnings to print.</summary>
internal sealed record VersionLockResult(KilnLock Lock, ImmutableDictionary<(string Name, string Version), Lineage> Lineage, ImmutableArray<KilnDiagnostic> Warnings);

/// <summary>
/// The version-lock step of a build: compares what was built with what kiln.lock.json records per server and version.
/// Pure: it reads and writes nothing, so the engine can run it after the images are computed and before any artifact
/// that names them is written.
/// </summary>
internal static class VersionLock
{
    /// <summary>Parses the LockMode parameter (case-insensitive).</summary>
    public static LockMode ParseMode(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Equals("Update", StringComparison.OrdinalIgnoreCase))
        {
            return LockMode.Update;
        }

        if (text.Equals("Enforce", StringComparison.OrdinalIgnoreCase))
        {
            return LockMode.Enforce;
        }

        if (text.Equals("Off", StringComparison.OrdinalIgnoreCase))
        {
            return LockMode.Off;
        }

        throw new KilnException(DiagnosticCodes.InvalidLockMode, $"KilnLockMode is '{text}', which is not 'Update', 'Enforce' or 'Off'. Use Update for local Release builds (the default), Enforce for CI (the default when ContinuousIntegrationBuild is true), or Off (the default for configurations other than KilnLockConfiguration, Release).");
    }

    /// <summary>
    /// Checks <paramref name="images"/> against <paramref name="current"/>. In <see cref="LockMode.Enforce"/> every
    /// locked version whose digest changed is reported together in one <see cref="KilnException"/>, unless
    /// <paramref name="explicitUpdate"/> (<c>kiln lock --update</c>, KilnUpdateLock) accepts the change.
    /// </summary>
    public static VersionLockResult Apply(KilnLock current, IEnumerable<LockCandidate> images, LockMode mode, bool explicitUpdate, string lockPath)
    {
        if (mode == LockMode.Off && !explicitUpdate)
        {
            return new VersionLockResult(current, ImmutableDictionary<(string Name, string Version), Lineage>.Empty, []);
        }

        var servers = current.Servers.ToBuilder();
        var lineage = ImmutableDictionary.CreateBuilder<(string, string), Lineage>();
        var diagnostics = new DiagnosticBag();
        foreach (var image in images.OrderBy(i => i.Name, StringComparer.Ordinal).ThenBy(i => i.Version, SemanticVersionComparer.Instance))
        {
            var versions = servers.TryGetValue(image.Name, out var existing)
                ? existing
                : ImmutableSortedDictionary.Create<string, LockedVersion>(StringComparer.Ordinal);
            LockedVersion entry;
            if (image.Partial)
            {
                // A partial set has no index digest worth recording: check each built platform against the platform
                // digest a full build locked, and leave the entry as it is.
                if (versions.TryGetValue(image.Version, out var full) && full.Platforms is { } lockedPlatforms)
                {
                    foreach (var (platform, digest) in image.Platforms ?? ImmutableDictionary<string, string>.Empty)
                    {
                        if (lockedPlatforms.TryGetValue(platform, out var lockedDigest) && lockedDigest != digest && !explicitUpdate)
                        {
                            var what = $"{image.Name} {image.Version} for {platform} is locked in '{lockPath}' as {lockedDigest}, but this build (narrowed with KilnPlatforms) produced {digest}: the content changed without a new version.";
                            if (mode == LockMode.Enforce)
                            {
                                diagnostics.Error(DiagnosticCodes.LockedPlatformChanged, $"{what} Bump the version of '{image.Name}', or build every platform to record the change with 'kiln lock --update'.");
                            }
                            else
                            {
                                diagnostics.Warning(DiagnosticCodes.LockedPlatformChanged, $"{what} The lock is left as it is (a narrowed build never records a partial set); build every platform to record the new digests, and bump the version unless {image.Version} was never released.");
                            }
                        }
                    }

                    lineage[(image.Name, image.Version)] = full.Parent is { } fp && versions.TryGetValue(fp, out var fullParent) ? new Lineage(fp, fullParent.Digest) : new Lineage(full.Parent, null);
                }

                continue;
            }

            if (versions.TryGetValue(image.Version, out var locked))
            {
                entry = locked with { Digest = image.Digest, ManifestContentDigest = image.ManifestContentDigest, Platforms = image.Platforms };
                if (locked.Digest != image.Digest && !explicitUpdate)
                {
                    var what = $"{image.Name} {image.Version} is locked in '{lockPath}' as {locked.Digest}, but this build produced {image.Digest}: the content changed without a new version.";
                    if (mode == LockMode.Enforce)
                    {
                        diagnostics.Error(DiagnosticCodes.LockedVersionChanged, $"{what} Bump the version of '{image.Name}' (kiln bump {image.Name}; a released version must never mean two things), or, if the change is intended for this version, run 'kiln lock --update' (or build with -p:KilnUpdateLock=true) and commit the lock.");
                        continue;
                    }

                    diagnostics.Warning(DiagnosticCodes.LockedVersionRecorded, $"{what} The lock now records the new digest; a CI build (KilnLockMode=Enforce) would fail. Bump the version of '{image.Name}' unless {image.Version} was never released.");
                }
            }
            else
            {
                // The parent is the highest locked version below this one: lineage follows versions, not build order.
                var parent = versions.Keys
                    .Where(v => SemanticVersionComparer.Instance.Compare(v, image.Version) < 0)
                    .OrderBy(v => v, SemanticVersionComparer.Instance)
                    .LastOrDefault();
                // The first new version after a package update carries it as its reason; later ones inherit nothing.
                var parentReason = parent is null ? null : versions[parent].Reason;
                entry = new LockedVersion(image.Digest, image.ManifestContentDigest, parent)
                {
                    Platforms = image.Platforms,
                    Reason = image.BaseUpdate is { } update && !update.Equals(parentReason) && !versions.Values.Any(v => update.Equals(v.Reason)) ? update : null,
                };
            }

            servers[image.Name] = versions.SetItem(image.Version, entry);
            lineage[(image.Name, image.Version)] = entry.Parent is { } p && versions.TryGetValue(p, out var parentEntry)
                ? new Lineage(p, parentEntry.Digest)
                : new Lineage(entry.Parent, null);
        }

        diagnostics.ThrowIfErrors();
        return new VersionLockResult(current with { Servers = servers.ToImmutable() }, lineage.ToImmutable(), [.. diagnostics.Items]);
    }
}
