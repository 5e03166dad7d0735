using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Kiln.Engine.Building;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Evaluation;
using Kiln.Engine.IO;
using Kiln.Engine.Packages;
using Kiln.Engine.Planning.Bases;
using Kiln.Engine.Requests;
using Kiln.Oci;
using Kiln.Spec;
using Microsoft.Extensions.FileSystemGlobbing;

namespace Kiln.Engine.Planning;

/// <summary>
/// Turns resolved servers into image plans: resolves bases, enumerates every input file, detects layers that write the
/// same path with different content, and computes each layer's cache key from its inputs' metadata. Reads the file
/// system but writes nothing except the bases it imports or builds (into the intermediate directory), so that bad input
/// leaves the artifacts untouched.
/// </summary>
internal sealed class Planner(ProjectOptions project, Lock.KilnLock? lockFile = null)
{
    /// <summary>
    /// The lock as planning leaves it: what it was given, plus whatever planning pinned (package sets of package
    /// bases). The engine saves it after a successful build.
    /// </summary>
    public Lock.KilnLock Lock { get; set; } = lockFile ?? Kiln.Engine.Lock.KilnLock.Empty;

    /// <summary>Where Debian package bases come from.</summary>
    public PackageOptions Packages { get; init; } = new();

    /// <summary>How registry bases are reached and cached.</summary>
    public RegistryOptions Registry { get; init; } = new();

    /// <summary>Whether package sets the lock pins are resolved again (the explicit lock update).</summary>
    public bool UpdatePins { get; init; }

    /// <summary>Receives registry pulls' progress (the engine logs one line per blob).</summary>
    public Action<Kiln.Oci.Registry.TransferEvent>? RegistryLog { get; init; }

    /// <summary>
    /// Called once the bases are resolved and before anything MSBuild publishes is read: a build started while the
    /// publish still runs waits here. False calls the build off (<see cref="OperationCanceledException"/>), before
    /// anything is written.
    /// </summary>
    public Func<bool>? PublishedOutputsReady { get; init; }

    /// <summary>
    /// The keys of the publishes that run while a build waits (<see cref="PublishedOutputsReady"/>): layers of other
    /// publish outputs, of files and of directories are planned before the wait, since nothing writes them meanwhile.
    /// Null: every publish output is awaited.
    /// </summary>
    public IReadOnlySet<string>? Publishing { get; init; }

    /// <summary>
    /// Called before the wait with every resolved base (and the server it is for), to import them meanwhile, and with
    /// the plans of the images that read no output being published (when every layer planned so far is sound), to build
    /// them meanwhile: <see cref="Plan"/> returns these same plan objects. Not called by a build that does not wait: there
    /// a layer's planning error stops the build before anything is copied into the layout.
    /// </summary>
    public Action<IReadOnlyList<(ResolvedServer Server, BasePlan Base)>, IReadOnlyList<ImagePlan>>? BeforeWait { get; init; }

    private readonly Dictionary<string, BasePlan> _bases = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _inputs = new(StringComparer.Ordinal);

    /// <summary>The source of each kind of base; set when planning starts.</summary>
    private BaseSources _sources = null!;

    /// <summary>Where layer sources may come from; set when planning starts.</summary>
    private InputRoots _roots = null!;

    /// <summary>
    /// Every input the plans read: files, and directory trees as <c>dir/**</c> (so that an added file counts too).
    /// MSBuild's Inputs for the next incremental build.
    /// </summary>
    public IReadOnlyCollection<string> Inputs => _inputs;

    /// <summary>
    /// The publish runs the specs need, each with a stable key and its MSBuild properties: a self-contained publish
    /// without a runtime identifier once per platform the build makes (<paramref name="only"/> narrows them), everything
    /// else once.
    /// </summary>
    public static ImmutableArray<PublishRequirement> PublishRequirements(IEnumerable<ResolvedServer> servers, ProjectOptions project, IReadOnlyCollection<Kiln.Spec.Platform>? only = null) =>
        [.. servers.SelectMany(s => PlatformsToBuild(s, only).SelectMany(platform => s.Layers.OfType<PublishOutputLayer>().Select(layer => Publish(layer, platform, project))))
            .DistinctBy(p => p.Key)
            .OrderBy(p => p.Key, StringComparer.Ordinal)];

    /// <summary>The platforms of <paramref name="server"/> this build makes: its own, in its order, narrowed to <paramref name="only"/> when given.</summary>
    public static ImmutableArray<Kiln.Spec.Platform> PlatformsToBuild(ResolvedServer server, IReadOnlyCollection<Kiln.Spec.Platform>? only) =>
        only is null || only.Count == 0 ? server.Platforms : [.. server.Platforms.Where(only.Contains)];

    /// <summary>
    /// The runtime a publish-output layer is published for on <paramref name="platform"/>: the one the spec names (validation
    /// made sure it fits), else the platform's for a self-contained app, else none (framework-dependent: one publish, the
    /// same layer on every platform).
    /// </summary>
    internal static string? RuntimeIdentifierFor(PublishOutputLayer layer, Kiln.Spec.Platform platform) =>
        layer.RuntimeIdentifier ?? (layer.SelfContained ? platform.RuntimeIdentifier : null);

    private static PublishRequirement Publish(PublishOutputLayer layer, Kiln.Spec.Platform platform, ProjectOptions options)
    {
        var project = Path.GetFullPath(Path.Combine(options.ProjectDirectory, layer.Project));
        var configuration = layer.Configuration ?? options.Configuration;
        var runtimeIdentifier = RuntimeIdentifierFor(layer, platform);
        var identity = $"{project}|{runtimeIdentifier}|{layer.SelfContained}|{configuration}";
        // The key names the publish directory, which the SDK cannot take with a ';' in it (HasTrailingSlash on
        // PublishDir fails): the file name keeps only characters that are safe in a path and an MSBuild property.
        var name = string.Concat(Path.GetFileNameWithoutExtension(project).Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_'));
        var key = $"{name}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..12]}";
        var directory = Path.Combine(options.IntermediateDirectory, "publish", key) + Path.DirectorySeparatorChar;
        return new PublishRequirement(key, project, configuration, directory, runtimeIdentifier, layer.SelfContained);
    }

    /// <summary>
    /// Refuses a narrowing (KilnPlatforms) that names a platform some server does not declare: Kiln never builds an
    /// image for a platform its spec does not list (KILN2144, one error per server and platform).
    /// </summary>
    public static void CheckNarrowing(IEnumerable<ResolvedServer> servers, IReadOnlyCollection<Kiln.Spec.Platform> only)
    {
        var diagnostics = new DiagnosticBag();
        foreach (var server in servers)
        {
            foreach (var platform in only.Where(p => !server.Platforms.Contains(p)))
            {
                diagnostics.Error(DiagnosticCodes.PlatformNotDeclared, $"Spec '{server.SpecType}': KilnPlatforms names {platform}, which the spec does not declare (its platforms: {string.Join(", ", server.Platforms)}). Name only declared platforms, add {platform} to the spec's Platforms, or leave KilnPlatforms empty.", server.LocationOf(nameof(ServerSpec.Platforms)));
            }
        }

        diagnostics.ThrowIfErrors();
    }

    /// <summary>One plan per server and platform, in the servers' order and each server's platform order.</summary>
    public ImmutableArray<ImagePlan> Plan(IReadOnlyList<ResolvedServer> servers)
    {
        _roots = InputRoots.Create(project.ProjectDirectory, project.InputRoots);
        _sources = new BaseSources(project, Packages, Registry, UpdatePins, Lock.PackageBases, _inputs, RegistryLog);
        var diagnostics = new DiagnosticBag();
        var plans = new List<ImagePlan>();

        // Bases first: they never read what MSBuild publishes, so a build started while the publish runs resolves them
        // meanwhile, and only then waits for the published output.
        var bases = new Dictionary<(int Server, Kiln.Spec.Platform Platform), BasePlan?>();
        for (var s = 0; s < servers.Count; s++)
        {
            foreach (var platform in PlatformsToBuild(servers[s], project.Platforms))
            {
                bases[(s, platform)] = PlanBase(servers[s], new Platform(platform.Architecture, platform.Os) { Variant = platform.Variant }, diagnostics);
            }
        }

        // A layer that does not depend on the platform (files, directories, a framework-dependent publish) is planned
        // once per server and shared: the same entries give the same cache key, hence one blob for every platform.
        var planned = servers.Select(_ => new Dictionary<(int Index, string? RuntimeIdentifier), IReadOnlyList<LayerPlan>?>()).ToArray();
        void PlanLayers(bool? awaited)
        {
            for (var s = 0; s < servers.Count; s++)
            {
                foreach (var platform in PlatformsToBuild(servers[s], project.Platforms))
                {
                    for (var i = 0; i < servers[s].Layers.Length; i++)
                    {
                        var layer = servers[s].Layers[i];
                        var key = (i, layer is PublishOutputLayer publish ? RuntimeIdentifierFor(publish, platform) : null);
                        if ((awaited is null || awaited == AwaitsPublish(layer, platform)) && !planned[s].ContainsKey(key))
                        {
                            planned[s][key] = PlanLayer(servers[s], platform, i, diagnostics);
                        }
                    }
                }
            }
        }

        // One image's plan from its base and planned layers (null without a base: its error is already reported).
        ImagePlan? PlanImage(int s, Kiln.Spec.Platform platform)
        {
            var server = servers[s];
            var layers = new List<LayerPlan>();
            for (var i = 0; i < server.Layers.Length; i++)
            {
                var key = (i, server.Layers[i] is PublishOutputLayer publish ? RuntimeIdentifierFor(publish, platform) : null);
                if (planned[s][key] is { } layer)
                {
                    layers.AddRange(layer);
                }
            }

            CheckConflicts(server, layers, diagnostics);
            return bases[(s, platform)] is { } basePlan ? new ImagePlan(server, basePlan, [.. layers]) { Platform = platform } : null;
        }

        var early = new Dictionary<(int Server, Kiln.Spec.Platform Platform), ImagePlan?>();
        if (PublishedOutputsReady is { } ready)
        {
            // While the publish runs: import the bases, plan every layer it does not write, and the images that read
            // nothing it writes (unless a layer was refused: that build stops after the wait); then wait for it.
            PlanLayers(awaited: false);
            if (!diagnostics.HasErrors)
            {
                for (var s = 0; s < servers.Count; s++)
                {
                    foreach (var platform in PlatformsToBuild(servers[s], project.Platforms).Where(p => !servers[s].Layers.Any(l => AwaitsPublish(l, p))))
                    {
                        early[(s, platform)] = PlanImage(s, platform);
                    }
                }
            }

            // Images are built ahead only when nothing was refused so far (a conflict between an image's layers too).
            BeforeWait?.Invoke(
                [.. bases.Where(b => b.Value is not null).Select(b => (servers[b.Key.Server], b.Value!))],
                diagnostics.HasErrors ? [] : [.. early.Values.OfType<ImagePlan>()]);
            if (!ready())
            {
                throw new OperationCanceledException("The image build was called off before reading the published output.");
            }

            PlanLayers(awaited: true);
        }
        else
        {
            PlanLayers(awaited: null);
        }

        for (var s = 0; s < servers.Count; s++)
        {
            foreach (var platform in PlatformsToBuild(servers[s], project.Platforms))
            {
                if ((early.TryGetValue((s, platform), out var plan) ? plan : PlanImage(s, platform)) is { } image)
                {
                    plans.Add(image);
                }
            }
        }

        diagnostics.ThrowIfErrors();
        // A package set no spec asks for any more (its packages changed) is dropped, so the lock only pins what is used.
        // A build narrowed to some platforms cannot tell: the sets of the platforms it did not build stay as they are.
        var usedPackageBases = _sources.UsedPackageBases;
        var packageBases = Lock.PackageBases.SetItems(_sources.PinnedPackages);
        var narrowed = project.Platforms is { IsDefaultOrEmpty: false };
        Lock = Lock with { PackageBases = narrowed ? packageBases : packageBases.RemoveRange(packageBases.Keys.Where(k => !usedPackageBases.Contains(k))) };
        return [.. plans];
    }

    /// <summary>Whether planning <paramref name="layer"/> for <paramref name="platform"/> reads an output being published now.</summary>
    private bool AwaitsPublish(Layer layer, Kiln.Spec.Platform platform) =>
        layer is PublishOutputLayer publish && (Publishing is null || Publishing.Contains(Publish(publish, platform, project).Key));

    /// <summary>The base of <paramref name="server"/> for <paramref name="platform"/>, resolved once per key and plan; null after a coded error.</summary>
    private BasePlan? PlanBase(ResolvedServer server, Platform platform, DiagnosticBag diagnostics)
    {
        if (_sources.For(server.Base) is not { } source)
        {
            diagnostics.Error(DiagnosticCodes.InvalidBaseImage, $"Spec '{server.SpecType}': unknown base image kind '{server.Base.GetType().Name}'.", server.LocationOf(nameof(ServerSpec.Base)));
            return null;
        }

        // With a base verification key, a local base is refused rather than waved through unchecked.
        if (Registry.BaseVerificationKey is not null && server.Base is OciLayoutBase or ArchiveBase)
        {
            var (kind, path) = server.Base is OciLayoutBase layout ? ("OCI layout", layout.Path) : ("image archive", ((ArchiveBase)server.Base).Path);
            diagnostics.Error(DiagnosticCodes.BaseNotVerifiable, Attestation.BaseVerification.NotVerifiable($"Spec '{server.SpecType}'", kind, path), server.LocationOf(nameof(ServerSpec.Base)));
            return null;
        }

        try
        {
            var key = source.Key(server, platform);
            return _bases.TryGetValue(key, out var cached) ? cached : _bases[key] = source.Resolve(server, platform);
        }
        catch (KilnException e)
        {
            diagnostics.AddRange(e.Diagnostics.Select(d => d with { Location = d.Location ?? server.LocationOf(nameof(ServerSpec.Base)) }));
            return null;
        }
    }

    private IReadOnlyList<LayerPlan>? PlanLayer(ResolvedServer server, Kiln.Spec.Platform platform, int index, DiagnosticBag diagnostics)
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
                if (to == "/")
                {
                    diagnostics.Error(DiagnosticCodes.PathNotAbsolute, $"Spec '{server.SpecType}': Layers[{index}] copies file '{file.Source}' to '/', which is a directory. Give the file's full destination path.", location);
                    return null;
                }

                var describe = $"Spec '{server.SpecType}': Layers[{index}] copies '{file.Source}'";
                if (Confine(file.Source, path, describe, diagnostics, location) is not { } real)
                {
                    return null;
                }

                switch (InputFileTypes.Of(real))
                {
                    case InputFileType.Regular:
                        break;
                    case InputFileType.Missing when new FileInfo(path).LinkTarget is not null:
                        diagnostics.Error(DiagnosticCodes.InputFileMissing, $"{describe}, which is a symbolic link to '{real}', which does not exist. Fix the link or the path (it is relative to the spec project), or add the file.", location);
                        return null;
                    case InputFileType.Missing:
                        diagnostics.Error(DiagnosticCodes.InputFileMissing, $"{describe}, which does not exist (looked for '{path}'). Fix the path (it is relative to the spec project) or add the file.", location);
                        return null;
                    case InputFileType.Directory:
                        diagnostics.Error(DiagnosticCodes.InputFileMissing, $"{describe}, which is a directory ('{real}'), not a file. Copy a directory with Layer.Directory(\"{file.Source}\", to: \"{layer.To}\"), or name one file inside it.", location);
                        return null;
                    case var type:
                        diagnostics.Error(DiagnosticCodes.InputNotRegularFile, $"{describe}, which is {InputFileTypes.Describe(type)} ('{real}'), not a regular file. Only regular files (and links inside a copied directory) go into an image; Kiln refuses other types without opening them. Point the layer at a regular file.", location);
                        return null;
                }

                _inputs.Add(path);
                entries.Add(FileEntry(to, real, file.Mode?.Bits, layer.Owner));
                break;
            }

            case DirectoryLayer directory:
            {
                var path = Resolve(directory.Source);
                source = $"directory:{Relative(path)}";
                var describe = $"Spec '{server.SpecType}': Layers[{index}] copies directory '{directory.Source}'";
                if (Confine(directory.Source, path, describe, diagnostics, location) is not { } real)
                {
                    return null;
                }

                switch (InputFileTypes.Of(real))
                {
                    case InputFileType.Directory:
                        break;
                    case InputFileType.Missing:
                        diagnostics.Error(DiagnosticCodes.InputDirectoryMissing, $"{describe}, which does not exist (looked for '{real}'). Fix the path (it is relative to the spec project) or create the directory.", location);
                        return null;
                    case var type:
                        diagnostics.Error(DiagnosticCodes.InputDirectoryMissing, $"{describe}, which is {InputFileTypes.Describe(type)} ('{real}'), not a directory. Copy a single file with Layer.File, or name a directory.", location);
                        return null;
                }

                if (!AddTree(entries, real, to, layer.Owner, directory.Include, directory.Exclude, describe, diagnostics, location))
                {
                    return null;
                }

                break;
            }

            case PublishOutputLayer publish:
            {
                var requirement = Publish(publish, platform, project);
                source = $"publish:{Relative(requirement.Project)}";
                if (!File.Exists(requirement.Project))
                {
                    diagnostics.Error(DiagnosticCodes.PublishProjectMissing, PublishProjectMissingMessage(server, index, publish, requirement), location);
                    return null;
                }

                var published = project.PublishedProjects.FirstOrDefault(p => p.Key == requirement.Key);
                if (published is null || !Directory.Exists(published.Directory))
                {
                    diagnostics.Error(DiagnosticCodes.PublishOutputMissing, $"Spec '{server.SpecType}': Layers[{index}] takes the publish output of '{publish.Project}', but no publish output was produced for it. Check that the project exists and publishes (dotnet publish '{requirement.Project}'); Kiln's MSBuild targets publish it before building images.", location);
                    return null;
                }

                // Kiln chose the publish directory itself, so it is not confined to the input roots; its files are still
                // checked by type, and its links must stay inside it.
                if (!AddTree(entries, Path.GetFullPath(published.Directory), to, layer.Owner, ["**/*"], [], $"Spec '{server.SpecType}': Layers[{index}] takes the publish output of '{publish.Project}'", diagnostics, location))
                {
                    return null;
                }

                if (!publish.SplitLayers)
                {
                    break;
                }

                // Layers by rate of change: the runtime, packages, project references and the app each get their own
                // layer, each keyed by its own inputs, so that a one-line change rewrites only the app's.
                return [.. PublishLayers.Split(Path.GetFullPath(published.Directory), to, Path.GetFileNameWithoutExtension(requirement.Project), entries)
                    .Select(part => new LayerPlan(part.Name.Length == 0 ? source : $"{source}#{part.Name}", part.Entries, CacheKey(part.Entries, part.Identity)) { History = part.Description })];
            }

            default:
                diagnostics.Error(DiagnosticCodes.InvalidBaseImage, $"Spec '{server.SpecType}': unknown layer kind '{layer.GetType().Name}'.", location);
                return null;
        }

        return [new LayerPlan(source, [.. entries], CacheKey(entries))];
    }

    /// <summary>
    /// Adds the files of a tree that the globs match. The walk never follows a link: a relative link whose target stays
    /// inside the tree is stored as a link, any other link is refused, and so is any file that is not regular (a FIFO,
    /// socket or device), before anything opens it. Returns false when something was refused.
    /// </summary>
    private bool AddTree(List<PlannedEntry> entries, string root, string to, Owner owner, ImmutableArray<string> include, ImmutableArray<string> exclude, string describe, DiagnosticBag diagnostics, SourceLocation? location)
    {
        var matcher = new Matcher(StringComparison.Ordinal);
        matcher.AddIncludePatterns(include.IsDefaultOrEmpty ? ["**/*"] : include);
        if (!exclude.IsDefaultOrEmpty)
        {
            matcher.AddExcludePatterns(exclude);
        }

        var found = new Dictionary<string, InputFileType>(StringComparer.Ordinal);
        Walk(root, "", found);
        var matched = matcher.Match(root, found.Keys.Select(relative => Path.Combine(root, relative))).Files
            .Select(f => f.Path.Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList();

        _inputs.Add(Path.Combine(root, "**"));
        entries.Add(new PlannedEntry(to, EntryKind.Directory, null, owner.Uid, owner.Gid, null, 0, 0));
        var directories = new SortedSet<string>(StringComparer.Ordinal);
        var ok = true;
        foreach (var relative in matched)
        {
            var imagePath = to == "/" ? "/" + relative : to + "/" + relative;
            var full = Path.Combine(root, relative);
            switch (found[relative])
            {
                case InputFileType.Regular:
                    entries.Add(FileEntry(imagePath, full, null, owner));
                    break;
                case InputFileType.Symlink when InternalLinkTarget(root, full) is { } target:
                    entries.Add(new PlannedEntry(imagePath, EntryKind.Symlink, null, owner.Uid, owner.Gid, null, 0, 0) { LinkTarget = target });
                    break;
                case InputFileType.Symlink:
                    ok = false;
                    diagnostics.Error(DiagnosticCodes.InputSymlinkEscapes, $"{describe}, which holds '{relative}', a symbolic link to '{new FileInfo(full).LinkTarget}' that leaves the copied directory ('{root}'). Only relative links that stay inside the directory are copied (as links). Remove the link, copy its target into the directory, or leave it out with exclude: [\"{relative}\"].", location);
                    break;
                case var type:
                    ok = false;
                    diagnostics.Error(DiagnosticCodes.InputNotRegularFile, $"{describe}, which holds '{relative}', {InputFileTypes.Describe(type)}, not a regular file ('{full}'). Kiln refuses such files without opening them. Remove it, or leave it out with exclude: [\"{relative}\"].", location);
                    break;
            }

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

        return ok;
    }

    /// <summary>Every entry below <paramref name="directory"/> except directories, by type; links are not followed.</summary>
    private static void Walk(string directory, string relative, Dictionary<string, InputFileType> found)
    {
        foreach (var info in new DirectoryInfo(directory).EnumerateFileSystemInfos())
        {
            var path = relative.Length == 0 ? info.Name : relative + "/" + info.Name;
            var type = InputFileTypes.Of(info.FullName);
            if (type == InputFileType.Directory)
            {
                Walk(info.FullName, path, found);
            }
            else
            {
                found[path] = type;
            }
        }
    }

    /// <summary>
    /// The target of the link <paramref name="link"/> when it is relative and, taken as written, stays inside
    /// <paramref name="root"/>; null otherwise. Other links inside the tree are checked the same way, so a chain of
    /// links cannot leave it either.
    /// </summary>
    private static string? InternalLinkTarget(string root, string link)
    {
        var target = new FileInfo(link).LinkTarget;
        if (string.IsNullOrEmpty(target) || Path.IsPathRooted(target) || target.Contains('\0', StringComparison.Ordinal))
        {
            return null;
        }

        var resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(link)!, target));
        return InputRoots.IsUnder(resolved, root) ? target.Replace('\\', '/') : null;
    }

    /// <summary>
    /// The real path of a layer source (every symlink resolved) when it is inside the input roots; otherwise a coded
    /// error saying whether the path itself or a link on it leaves them, and null.
    /// </summary>
    private string? Confine(string source, string path, string describe, DiagnosticBag diagnostics, SourceLocation? location)
    {
        const string allow = "Keep layer sources inside the spec project, or allow another directory explicitly with the MSBuild property KilnInputRoots (for example <KilnInputRoots>..</KilnInputRoots> for the solution directory; kiln build --input-root).";
        if (!_roots.ContainsDeclared(path))
        {
            diagnostics.Error(DiagnosticCodes.InputOutsideRoots, $"{describe}, which is outside the spec project (resolved to '{path}'; allowed: {_roots.Describe()}). {allow}", location);
            return null;
        }

        var real = RealPath.TryResolve(path, out var loopAt);
        if (real is null)
        {
            diagnostics.Error(DiagnosticCodes.InputSymlinkLoop, $"{describe}, but its symbolic links form a loop (following '{loopAt}' -> '{new FileInfo(loopAt!).LinkTarget}' never ends). Fix the links so that they point at a real file.", location);
            return null;
        }

        if (!_roots.ContainsReal(real))
        {
            var link = new FileInfo(path).LinkTarget is { } target ? $"'{source}' is a symbolic link to '{target}'" : $"a directory on the way to '{source}' is a symbolic link";
            diagnostics.Error(DiagnosticCodes.InputSymlinkEscapes, $"{describe}: {link}, which resolves to '{real}', outside the allowed roots ({_roots.Describe()}). A link must not bring a file from elsewhere on this machine into the image. {allow}", location);
            return null;
        }

        return real;
    }

    /// <summary>The message for a publish-output layer whose project file is not there.</summary>
    internal static string PublishProjectMissingMessage(ResolvedServer server, int index, PublishOutputLayer publish, PublishRequirement requirement) =>
        $"Spec '{server.SpecType}': Layers[{index}] takes the publish output of '{publish.Project}', but there is no project file at '{requirement.Project}'. Fix the path (it is relative to the spec project) or add the project.";

    /// <summary>Every publish-output layer whose project file is missing, as coded errors (checked at evaluation, before MSBuild tries to publish it).</summary>
    public static void CheckPublishProjects(IEnumerable<ResolvedServer> servers, ProjectOptions project)
    {
        var diagnostics = new DiagnosticBag();
        foreach (var server in servers)
        {
            for (var i = 0; i < server.Layers.Length; i++)
            {
                if (server.Layers[i] is PublishOutputLayer publish && Publish(publish, server.Platforms.FirstOrDefault() ?? Kiln.Spec.Platform.LinuxAmd64, project) is var requirement && !File.Exists(requirement.Project))
                {
                    diagnostics.Error(DiagnosticCodes.PublishProjectMissing, PublishProjectMissingMessage(server, i, publish, requirement), server.LocationOf(nameof(ServerSpec.Layers)));
                }
            }
        }

        diagnostics.ThrowIfErrors();
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
                    (EntryKind.Symlink, EntryKind.Symlink) => previous.Entry.LinkTarget != entry.LinkTarget,
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
    /// <param name="contentIdentity">
    /// When the files are copies of an immutable package (a runtime pack: name/version), that identity stands for
    /// where the copies lie, so that apps publishing the same pack share one cache entry and one compression.
    /// </param>
    private string CacheKey(IEnumerable<PlannedEntry> entries, string? contentIdentity = null)
    {
        var text = new StringBuilder($"kiln-layer/1\n{LayerBuilder.Describe(project)}\n");
        if (contentIdentity is not null)
        {
            text.Append($"package\t{contentIdentity}\n");
        }

        foreach (var e in entries.OrderBy(e => e.Path, StringComparer.Ordinal))
        {
            text.Append($"{e.Path}\t{e.Kind}\t{e.Mode}\t{e.Uid}:{e.Gid}\t{(contentIdentity is null ? e.SourcePath : "")}\t{e.Size}\t{e.LastWriteTicks}{(e.Kind == EntryKind.Symlink ? "\t" + e.LinkTarget : "")}\n");
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private string Resolve(string relative) => Path.GetFullPath(Path.Combine(project.ProjectDirectory, relative));

    private string Relative(string path) => Path.GetRelativePath(project.ProjectDirectory, path).Replace('\\', '/');
}
