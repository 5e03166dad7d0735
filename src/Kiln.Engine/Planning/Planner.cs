using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Kiln.Engine.Building;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Evaluation;
using Kiln.Engine.Packages;
using Kiln.Engine.Requests;
using Kiln.Oci;
using Kiln.Spec;
using Microsoft.Extensions.FileSystemGlobbing;

namespace Kiln.Engine.Planning;

/// <summary>
/// Turns resolved servers into image plans: resolves bases, enumerates every input file, detects layers that write the
/// same path with different content, and computes each layer's cache key from its inputs' metadata. Reads the file
/// system but writes nothing except imported base archives (into the intermediate directory), so that bad input
/// leaves the artifacts untouched.
/// </summary>
internal sealed class Planner(BuildRequest request, Lock.KilnLock? lockFile = null)
{
    /// <summary>
    /// The lock as planning leaves it: what it was given, plus whatever planning pinned (package sets of package
    /// bases). The engine saves it after a successful build.
    /// </summary>
    public Lock.KilnLock Lock { get; set; } = lockFile ?? Kiln.Engine.Lock.KilnLock.Empty;

    /// <summary>Receives registry pulls' progress (the engine logs one line per blob).</summary>
    public Action<Kiln.Oci.Registry.TransferEvent>? RegistryLog { get; init; }

    private readonly Dictionary<string, BasePlan> _bases = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _inputs = new(StringComparer.Ordinal);

    /// <summary>One client for every package download of the process (connection reuse across builds in one engine).</summary>
    private static readonly Lazy<HttpClient> PackageHttp = new(() => new HttpClient { Timeout = TimeSpan.FromMinutes(5) });

    private PackageBaseBuilder? _packageBases;

    /// <summary>
    /// Every input the plans read: files, and directory trees as <c>dir/**</c> (so that an added file counts too).
    /// MSBuild's Inputs for the next incremental build.
    /// </summary>
    public IReadOnlyCollection<string> Inputs => _inputs;

    /// <summary>The publish runs the specs need, each with a stable key and its MSBuild properties.</summary>
    public static ImmutableArray<PublishRequirement> PublishRequirements(IEnumerable<ResolvedServer> servers, BuildRequest request) =>
        [.. servers.SelectMany(s => s.Layers.OfType<PublishOutputLayer>())
            .Select(layer => Publish(layer, request))
            .DistinctBy(p => p.Key)
            .OrderBy(p => p.Key, StringComparer.Ordinal)];

    /// <summary>The global properties that keep a published app free of the commit id and the checkout path.</summary>
    /// <remarks>EmbedUntrackedSources (set by Source Link in a git work tree) would embed generated files in the PDBs in a
    /// clone but not in a copy of the same sources, so a CI checkout and an exported tree would disagree.</remarks>
    internal const string ReproduciblePublishProperties = "IncludeSourceRevisionInInformationalVersion=false;EnableSourceLink=false;EmbedUntrackedSources=false;DeterministicSourcePaths=true";

    private static PublishRequirement Publish(PublishOutputLayer layer, BuildRequest request)
    {
        var project = Path.GetFullPath(Path.Combine(request.ProjectDirectory, layer.Project));
        var configuration = layer.Configuration ?? request.Configuration;
        var identity = $"{project}|{layer.RuntimeIdentifier}|{layer.SelfContained}|{configuration}";
        var key = $"{Path.GetFileNameWithoutExtension(project)}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..12]}";
        var directory = Path.Combine(request.IntermediateDirectory, "publish", key) + Path.DirectorySeparatorChar;
        // web.config is for IIS, not a Linux image; generating it also rewrites the file on every publish.
        // An image must not change with the commit or the checkout directory: the SDK would write the commit into every
        // assembly's informational version (1.0.0+<sha>) and into the PDB's Source Link map, and absolute source paths
        // into the PDB and the DLL's debug directory. The commit stays in the Kiln manifest's build section instead.
        var properties = new StringBuilder($"Configuration={configuration};PublishDir={directory};IsTransformWebConfigDisabled=true;{ReproduciblePublishProperties}");
        if (layer.RuntimeIdentifier is { } rid)
        {
            properties.Append($";RuntimeIdentifier={rid}");
        }

        properties.Append($";SelfContained={(layer.SelfContained ? "true" : "false")}");
        return new PublishRequirement(key, project, properties.ToString());
    }

    public ImmutableArray<ImagePlan> Plan(IReadOnlyList<ResolvedServer> servers)
    {
        var diagnostics = new DiagnosticBag();
        var plans = new List<ImagePlan>();
        foreach (var server in servers)
        {
            var basePlan = PlanBase(server, diagnostics);
            var layers = new List<LayerPlan>();
            for (var i = 0; i < server.Layers.Length; i++)
            {
                if (PlanLayer(server, i, diagnostics) is { } layer)
                {
                    layers.Add(layer);
                }
            }

            CheckConflicts(server, layers, diagnostics);
            if (basePlan is not null)
            {
                plans.Add(new ImagePlan(server, basePlan, [.. layers]));
            }
        }

        diagnostics.ThrowIfErrors();
        // A package set no spec asks for any more (its packages changed) is dropped, so the lock only pins what is used.
        var usedPackageBases = servers.Select(s => s.Base).OfType<DebianBase>().Select(PackageBaseBuilder.LockKey).ToHashSet(StringComparer.Ordinal);
        Lock = Lock with { PackageBases = Lock.PackageBases.RemoveRange(Lock.PackageBases.Keys.Where(k => !usedPackageBases.Contains(k))) };
        return [.. plans];
    }

    private BasePlan? PlanBase(ResolvedServer server, DiagnosticBag diagnostics)
    {
        var location = server.LocationOf(nameof(ServerSpec.Base));
        switch (server.Base)
        {
            case ScratchBase:
                return BasePlan.Scratch;
            case OciLayoutBase layout:
                return Cached($"layout|{layout.Path}|{layout.Reference}", () => BaseResolver.FromLayout(request, server, layout, _inputs), server, diagnostics);
            case ArchiveBase archive:
                return Cached($"archive|{archive.Path}|{archive.Reference}", () => BaseResolver.FromArchive(request, server, archive, _inputs), server, diagnostics);
            case RegistryBase registry:
                // Pulled once into the shared cache (verified by digest); a cached, pinned base needs no network.
                return Cached($"registry|{registry.Reference}|{registry.Platform}", () => Registry.RegistryBaseResolver.Resolve(request, server, registry, RegistryLog), server, diagnostics);
            case DebianBase debian:
                return Cached($"debian|{PackageBaseBuilder.LockKey(debian)}|{server.Account.Name}:{server.Account.Uid}:{server.Account.Gid}", () => PlanPackageBase(server, debian), server, diagnostics);
            default:
                diagnostics.Error(DiagnosticCodes.InvalidBaseImage, $"Spec '{server.SpecType}': unknown base image kind '{server.Base.GetType().Name}'.", location);
                return null;
        }
    }

    /// <summary>Builds a Debian package base and pins its package set in the lock.</summary>
    private BasePlan PlanPackageBase(ResolvedServer server, DebianBase debian)
    {
        _packageBases ??= new PackageBaseBuilder(request, PackageHttp.Value);
        var key = PackageBaseBuilder.LockKey(debian);
        var (plan, pinned) = _packageBases.Build(server, debian, Lock.PackageBases.GetValueOrDefault(key));
        Lock = Lock with { PackageBases = Lock.PackageBases.SetItem(key, pinned) };
        return plan;
    }

    private BasePlan? Cached(string key, Func<BasePlan> resolve, ResolvedServer server, DiagnosticBag diagnostics)
    {
        if (_bases.TryGetValue(key, out var cached))
        {
            return cached;
        }

        try
        {
            return _bases[key] = resolve();
        }
        catch (KilnException e)
        {
            diagnostics.AddRange(e.Diagnostics.Select(d => d with { Location = d.Location ?? server.LocationOf(nameof(ServerSpec.Base)) }));
            return null;
        }
    }

    private LayerPlan? PlanLayer(ResolvedServer server, int index, DiagnosticBag diagnostics)
    {
        var layer = server.Layers[index];
        var location = server.LocationOf(nameof(ServerSpec.Layers));
        var to = SpecValidator.NormalizeImagePath(layer.To);
        var entries = new List<PlannedEntry>();
        string source;
        switch (layer)
        {
            case FileLayer file:
            {
                var path = Resolve(file.Source);
                source = $"file:{Relative(path)}";
                if (!File.Exists(path))
                {
                    diagnostics.Error(DiagnosticCodes.InputFileMissing, $"Spec '{server.SpecType}': Layers[{index}] copies '{file.Source}', which does not exist (looked for '{path}'). Fix the path (it is relative to the spec project) or add the file.", location);
                    return null;
                }

                if (to == "/")
                {
                    diagnostics.Error(DiagnosticCodes.PathNotAbsolute, $"Spec '{server.SpecType}': Layers[{index}] copies file '{file.Source}' to '/', which is a directory. Give the file's full destination path.", location);
                    return null;
                }

                _inputs.Add(path);
                entries.Add(FileEntry(to, path, file.Mode?.Bits, layer.Owner));
                break;
            }

            case DirectoryLayer directory:
            {
                var path = Resolve(directory.Source);
                source = $"directory:{Relative(path)}";
                if (!Directory.Exists(path))
                {
                    diagnostics.Error(DiagnosticCodes.InputDirectoryMissing, $"Spec '{server.SpecType}': Layers[{index}] copies directory '{directory.Source}', which does not exist (looked for '{path}'). Fix the path (it is relative to the spec project) or create the directory.", location);
                    return null;
                }

                AddTree(entries, path, to, layer.Owner, directory.Include, directory.Exclude);
                break;
            }

            case PublishOutputLayer publish:
            {
                var requirement = Publish(publish, request);
                source = $"publish:{Relative(requirement.Project)}";
                var published = request.PublishedProjects.FirstOrDefault(p => p.Key == requirement.Key);
                if (published is null || !Directory.Exists(published.Directory))
                {
                    diagnostics.Error(DiagnosticCodes.PublishOutputMissing, $"Spec '{server.SpecType}': Layers[{index}] takes the publish output of '{publish.Project}', but no publish output was produced for it. Check that the project exists and publishes (dotnet publish '{requirement.Project}'); Kiln's MSBuild targets publish it before building images.", location);
                    return null;
                }

                AddTree(entries, published.Directory, to, layer.Owner, ["**/*"], []);
                break;
            }

            default:
                diagnostics.Error(DiagnosticCodes.InvalidBaseImage, $"Spec '{server.SpecType}': unknown layer kind '{layer.GetType().Name}'.", location);
                return null;
        }

        return new LayerPlan(source, [.. entries], CacheKey(entries));
    }

    private void AddTree(List<PlannedEntry> entries, string root, string to, Owner owner, ImmutableArray<string> include, ImmutableArray<string> exclude)
    {
        var matcher = new Matcher(StringComparison.Ordinal);
        matcher.AddIncludePatterns(include.IsDefaultOrEmpty ? ["**/*"] : include);
        if (!exclude.IsDefaultOrEmpty)
        {
            matcher.AddExcludePatterns(exclude);
        }

        _inputs.Add(Path.Combine(root, "**"));
        entries.Add(new PlannedEntry(to, EntryKind.Directory, null, owner.Uid, owner.Gid, null, 0, 0));
        var directories = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var relative in matcher.GetResultsInFullPath(root).Select(p => Path.GetRelativePath(root, p).Replace('\\', '/')).Order(StringComparer.Ordinal))
        {
            var imagePath = to == "/" ? "/" + relative : to + "/" + relative;
            entries.Add(FileEntry(imagePath, Path.Combine(root, relative), null, owner));
            for (var slash = relative.LastIndexOf('/'); slash > 0; slash = relative.LastIndexOf('/', slash - 1))
            {
                if (!directories.Add(relative[..slash]))
                {
                    break;
                }
            }
        }

        foreach (var directory in directories)
        {
            entries.Add(new PlannedEntry(to == "/" ? "/" + directory : to + "/" + directory, EntryKind.Directory, null, owner.Uid, owner.Gid, null, 0, 0));
        }
    }

    private static PlannedEntry FileEntry(string imagePath, string sourcePath, int? mode, Owner owner)
    {
        var info = new FileInfo(sourcePath);
        return new PlannedEntry(imagePath, EntryKind.File, mode, owner.Uid, owner.Gid, info.FullName, info.Length, info.LastWriteTimeUtc.Ticks);
    }

    /// <summary>
    /// Two layers of one image may write the same path only with the same content: otherwise which one wins depends on
    /// the order of layers, a trap nobody should have to debug in production.
    /// </summary>
    private static void CheckConflicts(ResolvedServer server, List<LayerPlan> layers, DiagnosticBag diagnostics)
    {
        var seen = new Dictionary<string, (LayerPlan Layer, PlannedEntry Entry)>(StringComparer.Ordinal);
        foreach (var layer in layers)
        {
            foreach (var entry in layer.Entries)
            {
                if (!seen.TryGetValue(entry.Path, out var previous))
                {
                    seen[entry.Path] = (layer, entry);
                    continue;
                }

                var conflict = (previous.Entry.Kind, entry.Kind) switch
                {
                    (EntryKind.Directory, EntryKind.Directory) => false,
                    (EntryKind.File, EntryKind.File) => !SameContent(previous.Entry.SourcePath!, entry.SourcePath!),
                    _ => true,
                };
                if (conflict && !ReferenceEquals(previous.Layer, layer))
                {
                    diagnostics.Error(DiagnosticCodes.LayerConflict, $"Spec '{server.SpecType}': '{entry.Path}' is written by two layers with different content ({previous.Layer.Source} and {layer.Source}). Give each file one source, or change one destination.", server.LocationOf(nameof(ServerSpec.Layers)));
                }
            }
        }
    }

    private static bool SameContent(string a, string b)
    {
        if (string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), StringComparison.Ordinal))
        {
            return true;
        }

        var left = new FileInfo(a);
        var right = new FileInfo(b);
        return left.Length == right.Length && File.ReadAllBytes(a).AsSpan().SequenceEqual(File.ReadAllBytes(b));
    }

    /// <summary>
    /// The key of a layer: the writer's settings plus every entry's path, kind, owner, explicit mode, and its source's
    /// identity (full path, size, last write time). A changed file changes its size or time, hence the key.
    /// </summary>
    private string CacheKey(IEnumerable<PlannedEntry> entries)
    {
        var text = new StringBuilder($"kiln-layer/1\n{LayerBuilder.Describe(request)}\n");
        foreach (var e in entries.OrderBy(e => e.Path, StringComparer.Ordinal))
        {
            text.Append($"{e.Path}\t{e.Kind}\t{e.Mode}\t{e.Uid}:{e.Gid}\t{e.SourcePath}\t{e.Size}\t{e.LastWriteTicks}\n");
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private string Resolve(string relative) => Path.GetFullPath(Path.Combine(request.ProjectDirectory, relative));

    private string Relative(string path) => Path.GetRelativePath(request.ProjectDirectory, path).Replace('\\', '/');
}
