using Kiln.Engine.Evaluation;
using Kiln.Engine.Lock;
using Kiln.Engine.Packages;
using Kiln.Oci;
using Kiln.Spec;

namespace Kiln.Engine.Planning.Bases;

/// <summary>
/// <c>BaseImage.Debian(suite, packages)</c>: a distroless base built from Debian packages by
/// <see cref="PackageBaseBuilder"/>, pinned by the lock's package set (or resolved and pinned now).
/// </summary>
/// <param name="builder">Builds the base; one per plan, so that package indexes are read once. Created on first use: a
/// build without a package base needs no package cache.</param>
/// <param name="locked">The package sets the lock pinned before this plan, by <see cref="PackageBaseBuilder.LockKey"/>.</param>
internal sealed class DebianBaseSource(Lazy<PackageBaseBuilder> builder, IReadOnlyDictionary<string, LockedPackageSet> locked) : IBaseSource
{
    private readonly Dictionary<string, LockedPackageSet> _pinned = new(StringComparer.Ordinal);

    /// <summary>The package sets this plan pinned, by lock key: what the planner records in the lock.</summary>
    public IReadOnlyDictionary<string, LockedPackageSet> Pinned => _pinned;

    /// <summary>The account layer is part of a package base, so servers share one only when their accounts agree.</summary>
    public string Key(ResolvedServer server, Platform platform) =>
        $"debian|{PackageBaseBuilder.LockKey(Spec(server))}|{server.Account.Name}:{server.Account.Uid}:{server.Account.Gid}|{platform}";

    public BasePlan Resolve(ResolvedServer server, Platform platform)
    {
        // The spec names its architecture; the platform's becomes the default once a build has more than one.
        var spec = Spec(server);
        var key = PackageBaseBuilder.LockKey(spec);
        var (plan, pinned) = builder.Value.Build(server, spec, _pinned.GetValueOrDefault(key) ?? locked.GetValueOrDefault(key));
        _pinned[key] = pinned;
        return plan;
    }

    private static DebianBase Spec(ResolvedServer server) => (DebianBase)server.Base;
}
