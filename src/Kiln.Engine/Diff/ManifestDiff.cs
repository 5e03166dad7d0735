using System.Collections.Immutable;
using System.Text.Json;
using Kiln.Engine.Manifests;
using Kiln.Engine.Packages;

namespace Kiln.Engine.Diff;

/// <summary>A resolved setting whose value differs (null: not set on that side).</summary>
public sealed record SettingChange(string Server, string Setting, string? Before, string? After);

/// <summary>An OS package added, removed, upgraded or downgraded.</summary>
public sealed record PackageChange(string Server, string Package, string Change, string? Before, string? After);

/// <summary>A file added, removed or modified; <paramref name="What"/> says what of it changed (content, mode, owner, type, target).</summary>
public sealed record FileChange(string Server, string Path, string Change, ImmutableArray<string> What);

/// <summary>A server on one side only (release diffs).</summary>
public sealed record ServerChange(string Server, string Change, string? Before, string? After);

/// <summary>What differs between two sets of Kiln manifests.</summary>
public sealed record DiffResult(
    ImmutableArray<(string Server, string? BeforeReference, string? BeforeDigest, string? AfterReference, string? AfterDigest)> Pairs,
    ImmutableArray<ServerChange> Servers,
    ImmutableArray<SettingChange> Settings,
    ImmutableArray<PackageChange> Packages,
    ImmutableArray<FileChange> Files)
{
    /// <summary>Whether anything differs (exit code 1 of <c>kiln diff</c>).</summary>
    public bool HasDifferences => !Servers.IsEmpty || !Settings.IsEmpty || !Packages.IsEmpty || !Files.IsEmpty;
}

/// <summary>The inputs of <c>kiln diff</c>: manifests, release.json files, or name:version in <see cref="ArtifactDirectory"/>.</summary>
public sealed record DiffRequest(string Before, string After, string? ArtifactDirectory = null);

/// <summary>
/// Compares Kiln manifests setting by setting, package by package and (through their inventories) file by file.
/// Servers pair by name; two single manifests pair even when their names differ.
/// </summary>
internal static class ManifestDiff
{
    public static DiffResult Diff(DiffRequest request) =>
        Diff(ManifestDocument.Resolve(request.Before, request.ArtifactDirectory), ManifestDocument.Resolve(request.After, request.ArtifactDirectory));

    public static DiffResult Diff(ImmutableArray<ManifestDocument> before, ImmutableArray<ManifestDocument> after)
    {
        var pairs = new List<(string, ManifestDocument?, ManifestDocument?)>();
        if (before.Length == 1 && after.Length == 1)
        {
            pairs.Add((after[0].Name, before[0], after[0]));
        }
        else
        {
            // Platform by platform: a multi-platform server's manifests pair by name and platform. A single-platform
            // manifest (no platform) stands for its server's one image, and pairs with the other side's first platform
            // when the server gained or lost platforms between the versions.
            var beforeKeys = Keys(before, after);
            var afterKeys = Keys(after, before);
            var names = beforeKeys.Keys.Union(afterKeys.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal);
            pairs.AddRange(names.Select(n => (n, beforeKeys.GetValueOrDefault(n), afterKeys.GetValueOrDefault(n))));
        }

        var servers = ImmutableArray.CreateBuilder<ServerChange>();
        var settings = ImmutableArray.CreateBuilder<SettingChange>();
        var packages = ImmutableArray.CreateBuilder<PackageChange>();
        var files = ImmutableArray.CreateBuilder<FileChange>();
        foreach (var (name, a, b) in pairs)
        {
            if (a is null || b is null)
            {
                servers.Add(new ServerChange(name, a is null ? "added" : "removed", a?.Reference, b?.Reference));
                continue;
            }

            settings.AddRange(Settings(name, a, b));
            packages.AddRange(Packages(name, a, b));
            files.AddRange(Files(name, a.LoadInventory(), b.LoadInventory()));
        }

        return new DiffResult(
            [.. pairs.Select(p => (p.Item1, p.Item2?.Reference, p.Item2?.ImageDigest, p.Item3?.Reference, p.Item3?.ImageDigest))],
            servers.ToImmutable(), settings.ToImmutable(), packages.ToImmutable(), files.ToImmutable());
    }

    /// <summary>Each manifest of <paramref name="side"/> by the name it pairs under (see <see cref="Diff(ImmutableArray{ManifestDocument}, ImmutableArray{ManifestDocument})"/>).</summary>
    private static Dictionary<string, ManifestDocument> Keys(ImmutableArray<ManifestDocument> side, ImmutableArray<ManifestDocument> other)
    {
        var keys = new Dictionary<string, ManifestDocument>(StringComparer.Ordinal);
        foreach (var m in side)
        {
            var key = m.DisplayName;
            if (m.Platform is null && other.FirstOrDefault(o => o.Name == m.Name && o.Platform is not null) is { } first && !other.Any(o => o.Name == m.Name && o.Platform is null))
            {
                key = first.DisplayName;
            }

            keys.TryAdd(key, m);
        }

        return keys;
    }

    /// <summary>Every leaf of the settings (dotted paths, arrays as JSON, walked generically so that a new setting needs no code here), plus the base.</summary>
    internal static SortedDictionary<string, string> Flatten(ManifestDocument m)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        Flatten(m.SettingsTree, "", result);
        result["base.name"] = m.Content.Base.Name;
        if (m.Content.Base.Digest is { } baseDigest)
        {
            result["base.digest"] = baseDigest.ToString();
        }

        return result;
    }

    private static void Flatten(JsonElement element, string prefix, SortedDictionary<string, string> result)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                Flatten(property.Value, prefix.Length == 0 ? property.Name : $"{prefix}.{property.Name}", result);
            }
        }
        else
        {
            result[prefix] = element.ValueKind == JsonValueKind.String ? element.GetString()! : element.GetRawText();
        }
    }

    private static IEnumerable<SettingChange> Settings(string server, ManifestDocument a, ManifestDocument b)
    {
        var before = Flatten(a);
        var after = Flatten(b);
        foreach (var key in before.Keys.Union(after.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var x = before.GetValueOrDefault(key);
            var y = after.GetValueOrDefault(key);
            if (!string.Equals(x, y, StringComparison.Ordinal))
            {
                yield return new SettingChange(server, key, x, y);
            }
        }
    }

    private static IEnumerable<PackageChange> Packages(string server, ManifestDocument a, ManifestDocument b)
    {
        var before = a.Packages.ToDictionary(p => p.Name, StringComparer.Ordinal);
        var after = b.Packages.ToDictionary(p => p.Name, StringComparer.Ordinal);
        foreach (var name in before.Keys.Union(after.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var x = before.GetValueOrDefault(name);
            var y = after.GetValueOrDefault(name);
            if (x is null || y is null)
            {
                yield return new PackageChange(server, name, x is null ? "added" : "removed", x?.Version, y?.Version);
            }
            else if (x.Version != y.Version)
            {
                yield return new PackageChange(server, name, DebianVersion.Compare(x.Version, y.Version) < 0 ? "upgraded" : "downgraded", x.Version, y.Version);
            }
        }
    }

    internal static IEnumerable<FileChange> Files(string server, IReadOnlyDictionary<string, InventoryEntry> before, IReadOnlyDictionary<string, InventoryEntry> after)
    {
        foreach (var path in before.Keys.Union(after.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            before.TryGetValue(path, out var x);
            after.TryGetValue(path, out var y);
            if (x is null || y is null)
            {
                yield return new FileChange(server, path, x is null ? "added" : "removed", []);
                continue;
            }

            var what = ImmutableArray.CreateBuilder<string>();
            if (x.Type != y.Type)
            {
                what.Add("type");
            }
            else
            {
                if (x.Sha256 != y.Sha256 || (x.Type == 'f' && x.Size != y.Size))
                {
                    what.Add("content");
                }

                if (x.Link != y.Link)
                {
                    what.Add("target");
                }

                if (x.Mode != y.Mode)
                {
                    what.Add("mode");
                }

                if (x.Uid != y.Uid || x.Gid != y.Gid)
                {
                    what.Add("owner");
                }
            }

            if (what.Count > 0)
            {
                yield return new FileChange(server, path, "modified", what.ToImmutable());
            }
        }
    }
}
