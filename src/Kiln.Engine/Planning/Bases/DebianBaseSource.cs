using Kiln.Engine.Diagnostics;
using Kiln.Engine.Evaluation;
using Kiln.Engine.Lock;
using Kiln.Engine.Packages;
using Kiln.Oci;
using Kiln.Spec;

namespace Kiln.Engine.Planning.Bases;

/// <summary>
/// <c>BaseImage.Debian(suite, packages)</c>: a distroless base built from Debian packages by
/// <see cref="PackageBaseBuilder"/> for the platform's Debian architecture, pinned by the lock's package set for that
/// architecture (or resolved and pinned now). The sets of one base for several architectures share their
/// <c>Architecture: all</c> pins.
/// </summary>
/// <param name="builder">Builds the base; one per plan, so that package indexes are read once. Created on first use: a
/// build without a package base needs no package cache.</param>
/// <param name="locked">The package sets the lock pinned before this plan, by <see cref="PackageBaseBuilder.LockKey"/>.</param>
/// <param name="updatePins">Whether locked sets are resolved again: their <c>Architecture: all</c> pins are then not preferred either.</param>
internal sealed class DebianBaseSource(Lazy<PackageBaseBuilder> builder, IReadOnlyDictionary<string, LockedPackageSet> locked, bool updatePins = false) : IBaseSource
{
    private readonly Dictionary<string, LockedPackageSet> _pinned = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    /// <summary>The package sets this plan pinned, by lock key: what the planner records in the lock.</summary>
    public IReadOnlyDictionary<string, LockedPackageSet> Pinned => _pinned;

    /// <summary>The lock keys of every package base this plan asked for, on every platform (the lock keeps only these).</summary>
    public IReadOnlySet<string> Used => _used;

    /// <summary>The account layer is part of a package base, so servers share one only when their accounts agree.</summary>
    public string Key(ResolvedServer server, Platform platform) =>
        $"debian|{PackageBaseBuilder.LockKey(For(server, platform))}|{server.Account.Name}:{server.Account.Uid}:{server.Account.Gid}|{platform}";

    public BasePlan Resolve(ResolvedServer server, Platform platform)
    {
        var spec = For(server, platform);
        var key = PackageBaseBuilder.LockKey(spec);
        _used.Add(key);
        var (plan, pinned) = builder.Value.Build(server, spec, _pinned.GetValueOrDefault(key) ?? locked.GetValueOrDefault(key), Siblings(spec));
        _pinned[key] = pinned;
        return plan with { PackageSetKey = key };
    }

    /// <summary>
    /// The base of <paramref name="server"/> for <paramref name="platform"/>: the spec's suite and packages, the
    /// platform's Debian architecture. A spec that names an architecture of its own (the third argument of
    /// <c>BaseImage.Debian</c>, amd64 when omitted) must agree with the platform.
    /// </summary>
    /// <exception cref="KilnException">KILN2150 for a platform without Debian bases; KILN2154 when the spec's architecture is another.</exception>
    public static DebianBase For(ResolvedServer server, Platform platform)
    {
        var spec = (DebianBase)server.Base;
        var architecture = PackageBaseBuilder.DebianArchitecture(platform, server.SpecType);
        if (spec.Architecture != architecture && spec.Architecture != DefaultArchitecture)
        {
            throw new KilnException(DiagnosticCodes.PackageBaseArchitectureMismatch, $"Spec '{server.SpecType}': the Debian base names architecture '{spec.Architecture}', but the image is built for {platform}. The base follows the image's platform: drop the architecture argument of BaseImage.Debian and list the platforms the server is built for (ServerSpec.Platforms).", server.LocationOf(nameof(ServerSpec.Base)));
        }

        return spec with { Architecture = architecture };
    }

    /// <summary>The architecture <c>BaseImage.Debian</c> names when the spec names none.</summary>
    private const string DefaultArchitecture = "amd64";

    /// <summary>The sets of the same base for other architectures: pinned in this plan, else locked (unless re-resolving).</summary>
    private List<LockedPackageSet> Siblings(DebianBase spec)
    {
        var shared = PackageBaseBuilder.SharedKey(spec);
        var siblings = new Dictionary<string, LockedPackageSet>(StringComparer.Ordinal);
        foreach (var (key, set) in (updatePins ? [] : locked.AsEnumerable()).Concat(_pinned))
        {
            if (set.Architecture != spec.Architecture && SharedKeyOf(key) == shared)
            {
                siblings[set.Architecture] = set;
            }
        }

        return [.. siblings.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => s.Value)];
    }

    private static string? SharedKeyOf(string lockKey)
    {
        try
        {
            return PackageBaseBuilder.SharedKey(PackageUpdates.BaseOf(lockKey));
        }
        catch (KilnException)
        {
            return null; // not a key Kiln writes: no sibling of anything
        }
    }
}
