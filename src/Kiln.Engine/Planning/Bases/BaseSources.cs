using Kiln.Engine.Lock;
using Kiln.Engine.Packages;
using Kiln.Engine.Requests;
using Kiln.Oci;
using Kiln.Oci.Registry;
using Kiln.Spec;

namespace Kiln.Engine.Planning.Bases;

/// <summary>Maps a spec's <c>BaseImage</c> kind to its <see cref="IBaseSource"/>; one source per kind and plan.</summary>
internal sealed class BaseSources
{
    /// <summary>The platform every image is built for today.</summary>
    public static Platform DefaultPlatform { get; } = new("amd64", "linux");

    /// <summary>One client for every package download of the process (connection reuse across builds in one engine).</summary>
    private static readonly Lazy<HttpClient> PackageHttp = new(() => new HttpClient { Timeout = TimeSpan.FromMinutes(5) });

    private readonly ScratchBaseSource _scratch = new();
    private readonly OciLayoutBaseSource _layout;
    private readonly ArchiveBaseSource _archive;
    private readonly RegistryBaseSource _registry;
    private readonly DebianBaseSource _debian;

    /// <param name="project">The spec project and the intermediate directory bases are staged in.</param>
    /// <param name="packages">Where Debian package bases come from.</param>
    /// <param name="registry">How registry bases are reached.</param>
    /// <param name="updatePins">Whether locked package sets are resolved again (the explicit lock update).</param>
    /// <param name="locked">The package sets the lock pinned before this plan.</param>
    /// <param name="inputs">Receives the local files bases are read from (inputs of the next incremental build).</param>
    /// <param name="registryLog">Receives registry pulls' progress.</param>
    public BaseSources(ProjectOptions project, PackageOptions packages, RegistryOptions registry, bool updatePins, IReadOnlyDictionary<string, LockedPackageSet> locked, ISet<string> inputs, Action<TransferEvent>? registryLog)
    {
        _layout = new OciLayoutBaseSource(project, inputs);
        _archive = new ArchiveBaseSource(project, inputs);
        _registry = new RegistryBaseSource(registry, project.IntermediateDirectory, registryLog);
        _debian = new DebianBaseSource(new(() => new PackageBaseBuilder(packages, PackageHttp.Value) { Project = project, UpdatePins = updatePins }), locked, updatePins);
    }

    /// <summary>The package sets Debian bases pinned in this plan, by lock key.</summary>
    public IReadOnlyDictionary<string, LockedPackageSet> PinnedPackages => _debian.Pinned;

    /// <summary>The lock keys of every package set a Debian base of this plan asked for, on every platform.</summary>
    public IReadOnlySet<string> UsedPackageBases => _debian.Used;

    /// <summary>The source of <paramref name="spec"/>'s kind, or null for a kind Kiln does not know.</summary>
    public IBaseSource? For(BaseImage spec) => spec switch
    {
        ScratchBase => _scratch,
        OciLayoutBase => _layout,
        ArchiveBase => _archive,
        RegistryBase => _registry,
        DebianBase => _debian,
        _ => null,
    };
}
