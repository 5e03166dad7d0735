using System.Collections.Immutable;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Lock;
using Kiln.Engine.Requests;
using Kiln.Spec;

namespace Kiln.Engine.Packages;

/// <summary>A package whose pinned version differs between two package sets (an update, an addition or a removal).</summary>
/// <param name="BaseKey">The package base (lock key) it belongs to.</param>
/// <param name="Name">The package name.</param>
/// <param name="OldVersion">The version pinned before; null for a package the update added.</param>
/// <param name="NewVersion">The version pinned after (or the newer candidate); null for a package the update dropped.</param>
/// <param name="Suite">The suite the new version comes from.</param>
public sealed record PackageChange(string BaseKey, string Name, string? OldVersion, string? NewVersion, string? Suite)
{
    /// <summary>Whether the new version comes from a security suite.</summary>
    public bool Security => Suite?.EndsWith("-security", StringComparison.Ordinal) == true;

    /// <summary>The Debian architecture of the package set (amd64, arm64), from <see cref="BaseKey"/>.</summary>
    public string Architecture => PackageUpdates.BaseOf(BaseKey).Architecture;

    /// <inheritdoc />
    public override string ToString() =>
        $"{Name} {OldVersion ?? "(new)"} -> {NewVersion ?? "(removed)"}{(Suite is null ? "" : $" [{Suite}]")}{(Security ? " security" : "")} ({Architecture})";
}

/// <summary>
/// What the signed indexes of a lock's package bases offer now: the packages with a newer candidate
/// (<c>kiln outdated</c>), and the lock with those candidates taken (<c>kiln lock --update</c>, optionally security
/// updates only). Reads indexes only: no image is built and no .deb is downloaded.
/// </summary>
public static class PackageUpdates
{
    /// <summary>The Debian base a lock key (<c>bookworm/amd64: libc6 zlib1g</c>) stands for.</summary>
    /// <exception cref="KilnException">KILN2046 when the key is not one Kiln writes.</exception>
    public static DebianBase BaseOf(string key)
    {
        var colon = key.IndexOf(": ", StringComparison.Ordinal);
        var slash = colon < 0 ? -1 : key.LastIndexOf('/', colon);
        if (colon < 0 || slash <= 0)
        {
            throw new KilnException(DiagnosticCodes.InvalidPackageBase, $"The lock's package base '{key}' is not of the form 'suite/architecture: packages'. Restore kiln.lock.json from version control, or rebuild with -p:KilnUpdateLock=true to re-pin it.");
        }

        return new DebianBase(key[..slash], [.. key[(colon + 2)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)], key[(slash + 1)..colon]);
    }

    /// <summary>
    /// Every locked package that has a newer candidate in its base's suites, by base then name: each architecture's
    /// set is read against that architecture's index, so a package appears once per architecture it is pinned for.
    /// </summary>
    public static ImmutableArray<PackageChange> Find(PackageOptions options, HttpClient http, KilnLock lockFile)
    {
        var builder = new PackageBaseBuilder(options, http);
        return [.. lockFile.PackageBases.SelectMany(kv => builder.Outdated(BaseOf(kv.Key), kv.Value)
            .Select(o => new PackageChange(kv.Key, o.Pinned.Name, o.Pinned.Version, o.Candidate.Version, o.Candidate.Suite)))];
    }

    /// <summary>
    /// The images (<c>name:version</c>) among the Kiln manifests under <paramref name="directories"/> that contain the
    /// old version of <paramref name="change"/>'s package: the images a fix has not reached yet.
    /// </summary>
    public static ImmutableArray<string> Affected(IEnumerable<string> directories, PackageChange change) =>
        [.. Manifests(directories)
            .Where(m => m.Packages.Any(p => p.Name == change.Name && p.Version == change.OldVersion))
            .Select(m => m.Reference).Distinct().Order(StringComparer.Ordinal)];

    private static IEnumerable<Kiln.Engine.Manifests.ManifestDocument> Manifests(IEnumerable<string> directories)
    {
        foreach (var directory in directories.Where(Directory.Exists))
        {
            foreach (var file in Directory.EnumerateFiles(directory, "*.json", SearchOption.AllDirectories).Where(f => Path.GetFileName(Path.GetDirectoryName(f)) == "manifests"))
            {
                ImmutableArray<Kiln.Engine.Manifests.ManifestDocument> sections = [];
                try
                {
                    // every platform section: each platform's image has its own package set
                    sections = Kiln.Engine.Manifests.ManifestDocument.LoadPlatforms(file);
                }
                catch (KilnException)
                {
                    // another tool's JSON under a manifests directory is not an image of this project
                }

                foreach (var manifest in sections)
                {
                    yield return manifest;
                }
            }
        }
    }

    /// <summary>
    /// The lock with newer candidates taken: every one (the base re-resolved from its suites), or with
    /// <paramref name="securityOnly"/> only those from a security suite (every other pin kept, the closure checked).
    /// </summary>
    public static (KilnLock Lock, ImmutableArray<PackageChange> Changes) Apply(PackageOptions options, HttpClient http, KilnLock lockFile, bool securityOnly, string? message = null)
    {
        var builder = new PackageBaseBuilder(options, http);
        var bases = lockFile.PackageBases;
        var changes = ImmutableArray.CreateBuilder<PackageChange>();
        // Keys sort by suite then architecture: the first architecture of a base re-resolves freely, the next ones
        // take its new Architecture: all pins, so that every architecture still installs the same files.
        var done = new List<(string Shared, LockedPackageSet Set)>();
        foreach (var (key, pinned) in lockFile.PackageBases)
        {
            var spec = BaseOf(key);
            var shared = PackageBaseBuilder.SharedKey(spec);
            var siblings = done.Where(d => d.Shared == shared && d.Set.Architecture != spec.Architecture).Select(d => d.Set).ToList();
            var taken = builder.Outdated(spec, pinned).Where(o => !securityOnly || o.Candidate.Suite.EndsWith("-security", StringComparison.Ordinal))
                .ToDictionary(o => o.Pinned.Name, o => o.Candidate.Version, StringComparer.Ordinal);
            if (taken.Count == 0)
            {
                done.Add((shared, pinned));
                continue;
            }

            var requested = securityOnly
                ? pinned.Packages.Select(p => $"{p.Name}={taken.GetValueOrDefault(p.Name, p.Version)}")
                : spec.Packages;
            var updated = pinned with { Packages = builder.ResolveAll(spec, requested, siblings) };
            done.Add((shared, updated));
            var before = pinned.Packages.ToDictionary(p => p.Name, StringComparer.Ordinal);
            var after = updated.Packages.ToDictionary(p => p.Name, StringComparer.Ordinal);
            foreach (var name in before.Keys.Union(after.Keys).Order(StringComparer.Ordinal))
            {
                var old = before.GetValueOrDefault(name);
                var now = after.GetValueOrDefault(name);
                if (old?.Version != now?.Version)
                {
                    changes.Add(new PackageChange(key, name, old?.Version, now?.Version, now?.Origin ?? (now is null ? null : spec.Suite)));
                }
            }

            var update = new PackageSetUpdate([.. changes.Where(c => c.BaseKey == key).Select(c => new LockedPackageChange(c.Name, c.OldVersion, c.NewVersion, c.Suite, c.Security))], message);
            bases = bases.SetItem(key, updated with { Update = update });
        }

        return (lockFile with { PackageBases = bases }, changes.ToImmutable());
    }
}
