using System.Collections.Immutable;
using System.Text.Json;
using Kiln.Oci;

namespace Kiln.Engine.Planning;

/// <summary>What a part of a publish output holds, in the order the parts are layered (slowest to change first).</summary>
internal enum PublishPartKind
{
    /// <summary>The files of one runtime pack (self-contained apps): changes with a .NET servicing update.</summary>
    Runtime,

    /// <summary>The runtime and native assets of NuGet packages: changes when a package reference changes.</summary>
    Packages,

    /// <summary>The assemblies of referenced projects other than the app.</summary>
    Projects,

    /// <summary>The app's own files and everything the dependency file does not name: changes with every edit.</summary>
    App,
}

/// <summary>One part of a split publish output.</summary>
/// <param name="Kind">What the part holds.</param>
/// <param name="Name">The suffix of the layer's source (<c>runtime:Microsoft.NETCore.App/10.0.12</c>, <c>packages</c>, <c>projects</c>), empty for the app part.</param>
/// <param name="Description">What the image history says the layer holds (<c>.NET runtime 10.0.12 (linux-x64)</c>).</param>
/// <param name="Entries">The part's entries: its files and links, with the directories above them.</param>
/// <param name="Identity">
/// For a runtime pack, the pack's name and version: its files come from the immutable NuGet package and carry the
/// package's time stamps, so two apps' copies of them make the same layer, and the cache key need not name where the
/// copies lie. Null for the other parts, whose keys name their source files.
/// </param>
internal sealed record PublishPart(PublishPartKind Kind, string Name, string Description, ImmutableArray<PlannedEntry> Entries, string? Identity);

/// <summary>
/// Splits a .NET publish output into layers by rate of change, using what the build knows rather than file names:
/// the app's dependency file (<c>&lt;app&gt;.deps.json</c>) lists every library the publish copied (runtime packs,
/// NuGet packages, projects) with its assets. Whatever it does not name (the app's own assembly, its pdb, config and
/// content) belongs to the app part. Without a readable dependency file the whole output is one app part.
/// </summary>
internal static class PublishLayers
{
    /// <summary>Splits <paramref name="entries"/> (the publish output's tree, rooted at <paramref name="to"/>).</summary>
    /// <param name="publishDirectory">The publish output on disk.</param>
    /// <param name="to">Where the output goes in the image (normalised).</param>
    /// <param name="projectName">The published project's file name without extension, to choose among dependency files.</param>
    /// <param name="entries">Every entry of the output, as the planner found it.</param>
    public static ImmutableArray<PublishPart> Split(string publishDirectory, string to, string projectName, IReadOnlyList<PlannedEntry> entries)
    {
        var prefix = to == "/" ? "/" : to + "/";
        var files = entries.Where(e => e.Kind != EntryKind.Directory).ToDictionary(e => e.Path[prefix.Length..], StringComparer.Ordinal);
        var owner = entries.First(e => e.Kind == EntryKind.Directory && e.Path == to);
        var app = Describe(publishDirectory, projectName);
        var claimed = new Dictionary<string, int>(StringComparer.Ordinal); // relative path -> group index
        var groups = new List<(PublishPartKind Kind, string Name, string Description, string? Identity)>();
        if (app is not null)
        {
            foreach (var library in app.Libraries)
            {
                var index = GroupOf(groups, library, app);
                if (index < 0)
                {
                    continue;
                }

                foreach (var asset in library.Assets)
                {
                    if (Candidates(asset).FirstOrDefault(c => files.ContainsKey(c) && !claimed.ContainsKey(c)) is { } path)
                    {
                        claimed[path] = index;
                        // A project's symbols and documentation travel with its assembly.
                        if (library.Kind == PublishPartKind.Projects && path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
                        {
                            foreach (var sibling in new[] { ".pdb", ".xml" }.Select(ext => path[..^4] + ext).Where(s => files.ContainsKey(s) && !claimed.ContainsKey(s)))
                            {
                                claimed[sibling] = index;
                            }
                        }
                    }
                }
            }
        }

        var parts = new List<PublishPart>();
        var appFiles = files.Keys.Where(f => !claimed.ContainsKey(f)).ToList();
        var ordered = groups.Select((g, i) => (Group: g, Index: i)).OrderBy(g => g.Group.Kind).ThenBy(g => g.Index); // the dependency file lists Microsoft.NETCore.App before frameworks on top of it
        foreach (var (group, index) in ordered)
        {
            var mine = claimed.Where(c => c.Value == index).Select(c => c.Key).ToList();
            if (mine.Count > 0)
            {
                parts.Add(new PublishPart(group.Kind, group.Name, group.Description, WithDirectories(mine, files, prefix, owner), group.Identity));
            }
        }

        // The planner's tree holds only the directories above files, so the parts together hold all of it.
        if (appFiles.Count > 0 || parts.Count == 0)
        {
            parts.Add(new PublishPart(PublishPartKind.App, "", app?.Name ?? projectName, WithDirectories(appFiles, files, prefix, owner), null));
        }

        return [.. parts];
    }

    /// <summary>The files <paramref name="relatives"/>, the output's root directory and every directory between them.</summary>
    private static ImmutableArray<PlannedEntry> WithDirectories(List<string> relatives, Dictionary<string, PlannedEntry> files, string prefix, PlannedEntry root)
    {
        var result = ImmutableArray.CreateBuilder<PlannedEntry>();
        result.Add(root);
        var directories = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var relative in relatives)
        {
            result.Add(files[relative]);
            for (var slash = relative.LastIndexOf('/'); slash > 0; slash = relative.LastIndexOf('/', slash - 1))
            {
                if (!directories.Add(relative[..slash]))
                {
                    break;
                }
            }
        }

        result.AddRange(directories.Select(d => root with { Path = prefix + d }));
        return result.ToImmutable();
    }

    /// <summary>Where the publish put an asset: the dependency file names it as the package lays it out.</summary>
    private static IEnumerable<string> Candidates(Asset asset)
    {
        if (asset.LocalPath is { } local)
        {
            yield return local;
        }

        yield return asset.Path;
        var name = asset.Path[(asset.Path.LastIndexOf('/') + 1)..];
        if (asset.Locale is { } locale)
        {
            yield return locale + "/" + name;
        }

        yield return name;
    }

    private static int GroupOf(List<(PublishPartKind Kind, string Name, string Description, string? Identity)> groups, Library library, AppDependencies app)
    {
        (PublishPartKind Kind, string Name, string Description, string? Identity) group;
        switch (library.Kind)
        {
            case PublishPartKind.Runtime:
            {
                var framework = library.Name.StartsWith("runtimepack.", StringComparison.Ordinal) ? library.Name["runtimepack.".Length..] : library.Name;
                var runtimeSuffix = app.RuntimeIdentifier is { } rid ? ".Runtime." + rid : ".Runtime";
                if (framework.EndsWith(runtimeSuffix, StringComparison.Ordinal))
                {
                    framework = framework[..^runtimeSuffix.Length];
                }

                var what = framework switch
                {
                    "Microsoft.NETCore.App" => ".NET runtime",
                    "Microsoft.AspNetCore.App" => "ASP.NET Core runtime",
                    _ => framework + " runtime",
                };
                group = (PublishPartKind.Runtime, $"runtime:{framework}/{library.Version}", $"{what} {library.Version}{(app.RuntimeIdentifier is { } r ? $" ({r})" : "")}", $"{library.Name}/{library.Version}");
                break;
            }

            case PublishPartKind.Packages:
                group = (PublishPartKind.Packages, "packages", $"NuGet packages of {app.Name}", null);
                break;
            case PublishPartKind.Projects:
                group = (PublishPartKind.Projects, "projects", $"project references of {app.Name}", null);
                break;
            default:
                return -1;
        }

        var index = groups.FindIndex(g => g.Name == group.Name);
        if (index >= 0)
        {
            return index;
        }

        groups.Add(group);
        return groups.Count - 1;
    }

    /// <summary>Reads the app's dependency file; null when there is none (or more than one and none is the project's) or it does not parse.</summary>
    private static AppDependencies? Describe(string publishDirectory, string projectName)
    {
        var depsFiles = Directory.GetFiles(publishDirectory, "*.deps.json");
        var depsFile = depsFiles.Length == 1 ? depsFiles[0] : depsFiles.FirstOrDefault(f => Path.GetFileName(f) == projectName + ".deps.json");
        if (depsFile is null)
        {
            return null;
        }

        var appName = Path.GetFileName(depsFile)[..^".deps.json".Length];
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(depsFile));
            var root = document.RootElement;
            var targetName = root.GetProperty("runtimeTarget").GetProperty("name").GetString()!;
            var slash = targetName.IndexOf('/', StringComparison.Ordinal);
            var rid = slash >= 0 ? targetName[(slash + 1)..] : null;
            var target = root.GetProperty("targets").GetProperty(targetName);
            var libraries = root.GetProperty("libraries");
            var result = new List<Library>();
            foreach (var library in target.EnumerateObject())
            {
                var at = library.Name.LastIndexOf('/');
                var (name, version) = at > 0 ? (library.Name[..at], library.Name[(at + 1)..]) : (library.Name, "");
                var type = libraries.TryGetProperty(library.Name, out var info) && info.TryGetProperty("type", out var t) ? t.GetString() : null;
                var kind = type switch
                {
                    "runtimepack" => PublishPartKind.Runtime,
                    "package" => PublishPartKind.Packages,
                    "project" when name != appName => PublishPartKind.Projects,
                    _ => PublishPartKind.App,
                };
                var assets = new List<Asset>();
                foreach (var group in new[] { "runtime", "native", "resources", "runtimeTargets" })
                {
                    if (library.Value.TryGetProperty(group, out var items) && items.ValueKind == JsonValueKind.Object)
                    {
                        foreach (var item in items.EnumerateObject())
                        {
                            var locale = item.Value.ValueKind == JsonValueKind.Object && item.Value.TryGetProperty("locale", out var l) ? l.GetString() : null;
                            var localPath = item.Value.ValueKind == JsonValueKind.Object && item.Value.TryGetProperty("localPath", out var p) ? p.GetString() : null;
                            assets.Add(new Asset(item.Name.Replace('\\', '/'), locale, localPath?.Replace('\\', '/')));
                        }
                    }
                }

                result.Add(new Library(name, version, kind, assets));
            }

            return new AppDependencies(appName, rid, result);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            // Not a dependency file the SDK wrote: layer the output as one app part rather than guess.
            return null;
        }
    }

    private sealed record AppDependencies(string Name, string? RuntimeIdentifier, List<Library> Libraries);

    private sealed record Library(string Name, string Version, PublishPartKind Kind, List<Asset> Assets);

    private sealed record Asset(string Path, string? Locale, string? LocalPath);
}
