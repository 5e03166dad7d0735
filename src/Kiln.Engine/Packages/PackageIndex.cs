using System.Collections.Immutable;

namespace Kiln.Engine.Packages;

/// <summary>One alternative of a dependency: <c>name [(op version)] [:arch]</c>.</summary>
internal sealed record Relation(string Name, string? Operator, string? Version)
{
    public override string ToString() => Operator is null ? Name : $"{Name} ({Operator} {Version})";

    /// <summary>Parses <c>a (&gt;= 1) | b, c</c> into groups of alternatives; architecture restrictions are dropped.</summary>
    public static ImmutableArray<ImmutableArray<Relation>> ParseGroups(string? field)
    {
        if (string.IsNullOrWhiteSpace(field))
        {
            return [];
        }

        return [.. field.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(group => group.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(Parse).ToImmutableArray())];
    }

    private static Relation Parse(string text)
    {
        string? op = null, version = null;
        var paren = text.IndexOf('(');
        var close = paren < 0 ? -1 : text.IndexOf(')', paren);
        if (paren > 0 && close > paren)
        {
            var inner = text[(paren + 1)..close].Trim();
            var opEnd = 0;
            while (opEnd < inner.Length && inner[opEnd] is '<' or '>' or '=')
            {
                opEnd++;
            }

            op = inner[..opEnd];
            version = inner[opEnd..].Trim();
            text = text[..paren];
        }

        // Drop [arch] and <profile> restrictions (the index is per architecture already) and :any/:native qualifiers.
        var cut = text.IndexOfAny(['[', '<', ' ', ':']);
        var name = (cut > 0 ? text[..cut] : text).Trim();
        return new Relation(name, op, version);
    }
}

/// <summary>A binary package as a Packages index describes it.</summary>
internal sealed record PackageRecord(
    string Name,
    string Version,
    string Architecture,
    string Filename,
    long Size,
    string Sha256,
    ImmutableArray<ImmutableArray<Relation>> PreDepends,
    ImmutableArray<ImmutableArray<Relation>> Depends,
    ImmutableArray<Relation> Provides)
{
    /// <summary>The suite whose index listed this package (bookworm, bookworm-security…).</summary>
    public string Suite { get; init; } = "";

    /// <summary>Conflicts and Breaks: packages that must not be installed alongside this one.</summary>
    public ImmutableArray<Relation> Conflicts { get; init; } = [];

    public IEnumerable<ImmutableArray<Relation>> Dependencies => PreDepends.Concat(Depends);

    public Lock.LockedPackage ToLocked() => new(Name, Version, Architecture, Sha256, Filename, Size, Suite.Length == 0 ? null : Suite);
}

/// <summary>A verified Packages index: every package by name, and every virtual name by what provides it.</summary>
internal sealed class PackageIndex
{
    private readonly Dictionary<string, List<PackageRecord>> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<(PackageRecord Provider, Relation Provided)>> _providers = new(StringComparer.Ordinal);

    public PackageIndex(IEnumerable<PackageRecord> records)
    {
        foreach (var record in records)
        {
            Add(_byName, record.Name, record);
            foreach (var provided in record.Provides)
            {
                Add(_providers, provided.Name, (record, provided));
            }
        }
    }

    public IEnumerable<string> Names => _byName.Keys;

    /// <summary>Every version of a real package, highest first.</summary>
    public IEnumerable<PackageRecord> Versions(string name) =>
        _byName.TryGetValue(name, out var list) ? list.OrderByDescending(r => r.Version, Comparer<string>.Create(DebianVersion.Compare)) : [];

    /// <summary>The packages that provide a virtual name, in name order (deterministic choice).</summary>
    public IEnumerable<(PackageRecord Provider, Relation Provided)> Providers(string name) =>
        _providers.TryGetValue(name, out var list) ? list.OrderBy(p => p.Provider.Name, StringComparer.Ordinal) : [];

    /// <summary>Reads a Packages file, keeping the packages of <paramref name="architecture"/> and <c>all</c>.</summary>
    public static PackageIndex Read(TextReader reader, string architecture, string suite = "") =>
        new(ReadRecords(reader, architecture, suite));

    /// <summary>The records of a Packages file, each tagged with the suite it came from.</summary>
    public static IEnumerable<PackageRecord> ReadRecords(TextReader reader, string architecture, string suite) =>
        ControlParagraph.ReadAll(reader)
            .Where(p => p["Package"] is not null && p["Architecture"] is { } a && (a == architecture || a == "all"))
            .Select(p => new PackageRecord(
                p["Package"]!,
                p["Version"] ?? "",
                p["Architecture"]!,
                p["Filename"] ?? "",
                long.TryParse(p["Size"], out var size) ? size : -1,
                (p["SHA256"] ?? "").ToLowerInvariant(),
                Relation.ParseGroups(p["Pre-Depends"]),
                Relation.ParseGroups(p["Depends"]),
                [.. Relation.ParseGroups(p["Provides"]).Select(g => g[0])])
            {
                Suite = suite,
                Conflicts = [.. Relation.ParseGroups(p["Conflicts"]).Concat(Relation.ParseGroups(p["Breaks"])).SelectMany(g => g)],
            }).ToList();

    private static void Add<T>(Dictionary<string, List<T>> map, string key, T value)
    {
        if (!map.TryGetValue(key, out var list))
        {
            map[key] = list = [];
        }

        list.Add(value);
    }
}
