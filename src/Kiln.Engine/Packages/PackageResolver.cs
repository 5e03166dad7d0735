using System.Collections.Immutable;
using Kiln.Engine.Diagnostics;

namespace Kiln.Engine.Packages;

/// <summary>
/// Picks the packages a base needs: the requested ones (highest version, or the exact <c>name=version</c> asked
/// for) and, transitively, their Pre-Depends and Depends. For each dependency group the first alternative that is
/// already installed wins; otherwise the first satisfiable alternative, a real package (highest version meeting the
/// constraint) before a provider of a virtual name. Conflicts and Breaks are respected: a candidate that conflicts
/// with a chosen package (or that a chosen package conflicts with) is passed over for the next version or alternative,
/// and a conflict no choice avoids is reported naming both packages (KILN2053). The result is pinned in the lock
/// where a reviewer sees it. The index is one architecture's; an <c>Architecture: all</c> package another architecture
/// of the same base already pinned is taken at that pin when the index serves it and it fits, so that every
/// architecture installs the same file.
/// </summary>
internal sealed class PackageResolver(PackageIndex index, string suite)
{
    private readonly Dictionary<string, PackageRecord> _selected = new(StringComparer.Ordinal);

    /// <summary>The Debian architecture of the index, named in messages (null: not named).</summary>
    public string? Architecture { get; init; }

    /// <summary>The <c>Architecture: all</c> pins of the same base on other architectures, by name: preferred when served.</summary>
    public IReadOnlyDictionary<string, Lock.LockedPackage> Shared { get; init; } = new Dictionary<string, Lock.LockedPackage>();

    /// <summary>Packages the same base installs on another architecture, with that architecture: a request missing here is KILN2152.</summary>
    public IReadOnlyDictionary<string, string> Elsewhere { get; init; } = new Dictionary<string, string>();

    private string Where => Architecture is null ? $"suite '{suite}'" : $"suite '{suite}' for {Architecture}";

    public ImmutableArray<PackageRecord> Resolve(IEnumerable<string> requested)
    {
        var diagnostics = new DiagnosticBag();
        var queue = new Queue<PackageRecord>();
        foreach (var request in requested)
        {
            var equals = request.IndexOf('=');
            var name = equals < 0 ? request.Trim() : request[..equals].Trim();
            var version = equals < 0 ? null : request[(equals + 1)..].Trim();
            var record = version is null ? Best(new Relation(name, null, null), avoidClashes: false) : index.Versions(name).FirstOrDefault(r => r.Version == version);
            if (record is null)
            {
                if (Architecture is not null && !index.Versions(name).Any() && Elsewhere.TryGetValue(name, out var other))
                {
                    diagnostics.Error(DiagnosticCodes.PackageMissingForArchitecture, $"Package '{name}' is in suite '{suite}' for {other} but not for {Architecture}: the base cannot be built for {Architecture}. Drop '{name}' from the base, or build the server only for the platforms whose architecture has it.");
                    continue;
                }

                diagnostics.Error(DiagnosticCodes.PackageUnknown, Unknown(name, version));
                continue;
            }

            Select(record, queue);
        }

        diagnostics.ThrowIfErrors();
        while (queue.TryDequeue(out var package))
        {
            foreach (var group in package.Dependencies)
            {
                if (group.Any(IsInstalled))
                {
                    continue;
                }

                var choice = group.Where(r => !_selected.ContainsKey(r.Name)).Select(Best).FirstOrDefault(r => r is not null);
                if (choice is null)
                {
                    diagnostics.Error(DiagnosticCodes.PackageUnsatisfiable, $"Package '{package.Name}' {package.Version} depends on '{string.Join(" | ", group)}', which no package in {Where} satisfies{Installed(group)}. Pin compatible versions in the spec (name=version), or drop the package that needs it.");
                    continue;
                }

                Select(choice, queue);
            }
        }

        foreach (var package in _selected.Values.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            foreach (var other in _selected.Values.Where(o => o.Name != package.Name).OrderBy(o => o.Name, StringComparer.Ordinal))
            {
                if (package.Conflicts.FirstOrDefault(c => Hits(c, other)) is { } conflict)
                {
                    diagnostics.Error(DiagnosticCodes.PackageConflict, $"Package '{package.Name}' {package.Version} ({package.Suite}) conflicts with or breaks '{conflict}', and '{other.Name}' {other.Version} ({other.Suite}) is also needed. Drop one of them from the spec, or pin versions (name=version) that can be installed together.");
                }
            }
        }

        diagnostics.ThrowIfErrors();
        return [.. _selected.Values.OrderBy(p => p.Name, StringComparer.Ordinal)];
    }

    private string Installed(ImmutableArray<Relation> group)
    {
        var installed = group.Where(r => _selected.ContainsKey(r.Name)).Select(r => $"{r.Name} {_selected[r.Name].Version}").ToList();
        return installed.Count == 0 ? "" : $" (already chosen: {string.Join(", ", installed)})";
    }

    private void Select(PackageRecord record, Queue<PackageRecord> queue)
    {
        if (_selected.TryAdd(record.Name, record))
        {
            queue.Enqueue(record);
        }
    }

    private bool IsInstalled(Relation relation) =>
        (_selected.TryGetValue(relation.Name, out var chosen) && DebianVersion.Satisfies(chosen.Version, relation.Operator, relation.Version))
        || _selected.Values.Any(p => p.Provides.Any(provided => provided.Name == relation.Name && ProvidesSatisfies(provided, relation)));

    /// <summary>The best candidate for a relation; an explicitly requested package is taken even when it clashes, so that the conflict is reported.</summary>
    private PackageRecord? Best(Relation relation) => Best(relation, avoidClashes: true);

    private PackageRecord? Best(Relation relation, bool avoidClashes) =>
        SharedPin(relation, avoidClashes)
        ?? index.Versions(relation.Name).FirstOrDefault(r => DebianVersion.Satisfies(r.Version, relation.Operator, relation.Version) && !(avoidClashes && Clashes(r)))
        ?? index.Providers(relation.Name).Where(p => ProvidesSatisfies(p.Provided, relation) && !(avoidClashes && Clashes(p.Provider))).Select(p => p.Provider).FirstOrDefault();

    /// <summary>The record of another architecture's <c>Architecture: all</c> pin, when this index serves that very file and it fits.</summary>
    private PackageRecord? SharedPin(Relation relation, bool avoidClashes) =>
        Shared.TryGetValue(relation.Name, out var pin)
            ? index.Versions(relation.Name).FirstOrDefault(r => r.Architecture == "all" && r.Version == pin.Version && r.Sha256 == pin.Sha256
                && DebianVersion.Satisfies(r.Version, relation.Operator, relation.Version) && !(avoidClashes && Clashes(r)))
            : null;

    /// <summary>Whether choosing <paramref name="candidate"/> would conflict with a package already chosen, either way round.</summary>
    private bool Clashes(PackageRecord candidate) =>
        _selected.Values.Any(s => s.Name != candidate.Name && (candidate.Conflicts.Any(c => Hits(c, s)) || s.Conflicts.Any(c => Hits(c, candidate))));

    /// <summary>Whether a Conflicts/Breaks relation names <paramref name="package"/> (by name and version, or an unversioned Provides).</summary>
    private static bool Hits(Relation conflict, PackageRecord package) =>
        (conflict.Name == package.Name && DebianVersion.Satisfies(package.Version, conflict.Operator, conflict.Version))
        || (conflict.Operator is null && package.Provides.Any(p => p.Name == conflict.Name));

    /// <summary>A versioned dependency is only met by a versioned Provides (Debian policy 7.5).</summary>
    private static bool ProvidesSatisfies(Relation provided, Relation wanted) =>
        wanted.Operator is null || (provided.Operator == "=" && DebianVersion.Satisfies(provided.Version!, wanted.Operator, wanted.Version));

    private string Unknown(string name, string? version)
    {
        if (version is not null && index.Versions(name).Any())
        {
            return $"Package '{name}' has no version '{version}' in {Where}; it has {string.Join(", ", index.Versions(name).Select(v => v.Version))}. Change the version in the spec, or drop '={version}' to take the newest.";
        }

        var close = index.Names
            .Select(n => (Name: n, Distance: Distance(name, n)))
            .Where(c => c.Distance <= Math.Max(2, name.Length / 3) || c.Name.StartsWith(name, StringComparison.Ordinal))
            .OrderBy(c => c.Distance).ThenBy(c => c.Name, StringComparer.Ordinal)
            .Take(5).Select(c => c.Name).ToList();
        return $"Package '{name}' is not in {Where}." + (close.Count > 0 ? $" Did you mean: {string.Join(", ", close)}?" : " Check the name (apt-cache search, or https://packages.debian.org).");
    }

    /// <summary>Levenshtein distance, for suggestions.</summary>
    internal static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
