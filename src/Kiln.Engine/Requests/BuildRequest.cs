using System.Collections.Immutable;

namespace Kiln.Engine.Requests;

/// <summary>
/// Everything one build needs, passed in explicitly: the engine never reads the clock, the environment or the current
/// directory itself. The engine process builds it from the command line Kiln.Build.targets gives it.
/// </summary>
public sealed record BuildRequest
{
    /// <summary>The compiled spec assembly.</summary>
    public required string Assembly { get; init; }

    /// <summary>The spec project's directory; relative paths in specs are resolved against it.</summary>
    public required string ProjectDirectory { get; init; }

    /// <summary>Where the artifacts go (bin/&lt;Configuration&gt;/kiln/).</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Where the engine keeps its own state between builds (obj/&lt;Configuration&gt;/kiln/).</summary>
    public required string IntermediateDirectory { get; init; }

    /// <summary>Every timestamp in the image (SOURCE_DATE_EPOCH semantics).</summary>
    public long SourceDateEpoch { get; init; }

    /// <summary>How Kiln's own layers are compressed (KilnLayerCompression): gzip (default) or zstd.</summary>
    public Kiln.Oci.LayerCompression LayerCompression { get; init; } = Kiln.Oci.LayerCompression.Gzip;

    /// <summary>The build configuration, used as the default for publish-output layers.</summary>
    public string Configuration { get; init; } = "Debug";

    /// <summary>The compiler's PathMap (<c>from=to,…</c>), so that PDB paths can be mapped back to files on disk.</summary>
    public string? PathMap { get; init; }

    /// <summary>
    /// Directories besides the project's that layer sources may come from (KilnInputRoots), relative to
    /// <see cref="ProjectDirectory"/> or absolute. Empty: only the project's own files.
    /// </summary>
    public ImmutableArray<string> InputRoots { get; init; } = [];

    /// <summary>How long evaluating the specs may take (KilnEvaluationTimeout), in seconds.</summary>
    public int EvaluationTimeoutSeconds { get; init; } = DefaultEvaluationTimeoutSeconds;

    /// <summary>The default of <see cref="EvaluationTimeoutSeconds"/>: far above any real spec, far below "forever".</summary>
    public const int DefaultEvaluationTimeoutSeconds = 60;

    /// <summary>The publish directories MSBuild produced for the specs' publish-output layers.</summary>
    public ImmutableArray<PublishedProject> PublishedProjects { get; init; } = [];

    /// <summary>
    /// How kiln.lock.json is treated: <c>Update</c> records new facts (and warns when a locked version's content
    /// changed), <c>Enforce</c> fails on any difference (CI). Package pins are only re-resolved when
    /// <see cref="UpdateLock"/> is set.
    /// </summary>
    public string LockMode { get; init; } = "Update";

    /// <summary>The explicit act of updating the lock: re-resolve pinned inputs and accept changed content.</summary>
    public bool UpdateLock { get; init; }

    /// <summary>The shared download cache (KILN_CACHE; by default under the user's home), passed in by the edge.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>How registry bases are reached (credentials sources, insecure registries, extra CAs), from the edge.</summary>
    public Kiln.Engine.Registry.RegistrySettings RegistryAccess { get; init; } = new();

    /// <summary>
    /// The Debian mirror package bases come from (<c>http://deb.debian.org/debian</c>); when null, the first mirror
    /// named by <see cref="AptSources"/> that serves the suite.
    /// </summary>
    public string? DebianMirror { get; init; }

    /// <summary>
    /// The Debian security archive the <c>&lt;suite&gt;-security</c> suite comes from
    /// (<c>http://deb.debian.org/debian-security</c>); when null, the apt source that serves it, else the mirror with
    /// <c>/debian</c> replaced by <c>/debian-security</c>, else the mirror itself.
    /// </summary>
    public string? DebianSecurityMirror { get; init; }

    /// <summary>The clock a Release file's Valid-Until is checked against (the edge passes the system clock).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>apt source files (deb822 <c>*.sources</c> or one-line <c>sources.list</c>) the edge found on the machine.</summary>
    public ImmutableArray<string> AptSources { get; init; } = [];

    /// <summary>The OpenPGP keyring InRelease files must verify against (default: Debian's archive keyring).</summary>
    public string DebianKeyring { get; init; } = KilnDefaults.DebianKeyring;

    /// <summary>The registry host images are pushed to and deployments pull from (KilnRegistry), for example <c>registry.example.com</c>.</summary>
    public string? Registry { get; init; }

    /// <summary>The repository path under <see cref="Registry"/> (KilnRepositoryPrefix), for example <c>acme/shop</c>.</summary>
    public string? RepositoryPrefix { get; init; }

    /// <summary>Facts about the build recorded in the manifests' build section, never in a digest.</summary>
    public BuildProvenance Provenance { get; init; } = new();

    /// <summary>
    /// The PEM file of the ECDSA P-256 key that signs the provenance (KilnSigningKey, else KILN_SIGNING_KEY), relative
    /// to <see cref="ProjectDirectory"/> or absolute; null builds unsigned attestations.
    /// </summary>
    public string? SigningKey { get; init; }

    /// <summary>
    /// The PEM public key deployments' images must be signed with (KilnVerificationKey): with it, every deployment also
    /// gets an admission policy (deploy/&lt;deployment&gt;/&lt;deployment&gt;.kyverno-clusterpolicy.yaml).
    /// </summary>
    public string? VerificationKey { get; init; }
}

/// <summary>A project MSBuild published for a publish-output layer.</summary>
/// <param name="Key">The key the evaluation gave the layer (see <see cref="PublishRequirement.Key"/>).</param>
/// <param name="Directory">The publish directory.</param>
public sealed record PublishedProject(string Key, string Directory);

/// <summary>Where and how a build ran. Recorded, never hashed.</summary>
public sealed record BuildProvenance
{
    public string? KilnVersion { get; init; }
    public string? SdkVersion { get; init; }
    public string? SourceRevision { get; init; }
    public bool? SourceTreeDirty { get; init; }
    public string? ContinuousIntegrationRun { get; init; }
}

/// <summary>A project the specs want published before their images can be built.</summary>
/// <param name="Key">A stable key for the (project, runtime, self-contained, configuration) combination.</param>
/// <param name="Project">The absolute project path.</param>
/// <param name="Configuration">The configuration to publish it in.</param>
/// <param name="PublishDirectory">Where its publish output goes (absolute, ending in a directory separator).</param>
/// <param name="RuntimeIdentifier">The runtime to publish for, when the spec names one.</param>
/// <param name="SelfContained">Whether the output carries its own runtime.</param>
/// <remarks>Structured data: the edge that hands it to MSBuild (the engine command) turns it into properties.</remarks>
public sealed record PublishRequirement(string Key, string Project, string Configuration, string PublishDirectory, string? RuntimeIdentifier, bool SelfContained)
{
    /// <summary>The global properties that keep a published app free of the commit id and the checkout path.</summary>
    /// <remarks>EmbedUntrackedSources (set by Source Link in a git work tree) would embed generated files in the PDBs in a
    /// clone but not in a copy of the same sources, so a CI checkout and an exported tree would disagree.</remarks>
    public const string ReproducibleProperties = "IncludeSourceRevisionInInformationalVersion=false;EnableSourceLink=false;EmbedUntrackedSources=false;DeterministicSourcePaths=true";
}
