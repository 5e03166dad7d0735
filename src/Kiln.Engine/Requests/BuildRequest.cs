using System.Collections.Immutable;

namespace Kiln.Engine.Requests;

/// <summary>
/// Everything one build needs, passed in explicitly as one option record per stage, so that each stage takes only what
/// it uses: the engine never reads the clock, the environment or the current directory itself. The engine process
/// builds it from the command line Kiln.Build.targets gives it.
/// </summary>
public sealed record BuildRequest
{
    /// <summary>Which assembly to evaluate and how.</summary>
    public required EvaluationOptions Evaluation { get; init; }

    /// <summary>The spec project, its inputs and the engine's state directory.</summary>
    public required ProjectOptions Project { get; init; }

    /// <summary>Where the artifacts go (bin/&lt;Configuration&gt;/kiln/).</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>
    /// For a build that waits for its publish: the keys of the publishes running meanwhile. Everything else is read
    /// before the wait. Default (not given): every publish output is awaited.
    /// </summary>
    public ImmutableArray<string> Publishing { get; init; }

    /// <summary>How kiln.lock.json is treated.</summary>
    public LockOptions Lock { get; init; } = new();

    /// <summary>Where Debian package bases come from.</summary>
    public PackageOptions Packages { get; init; } = new();

    /// <summary>How registry bases are reached and cached.</summary>
    public RegistryOptions Registry { get; init; } = new();

    /// <summary>Where rendered deployments pull images from, and the key their images must be signed with.</summary>
    public DeploymentOptions Deployment { get; init; } = new();

    /// <summary>The provenance's signing key and recorded facts.</summary>
    public AttestationOptions Attestation { get; init; } = new();
}

/// <summary>What evaluation needs: the compiled spec assembly, how to map its PDB paths back, how long it may take.</summary>
public sealed record EvaluationOptions
{
    /// <summary>The compiled spec assembly.</summary>
    public required string Assembly { get; init; }

    /// <summary>The compiler's PathMap (<c>from=to,…</c>), so that PDB paths can be mapped back to files on disk.</summary>
    public string? PathMap { get; init; }

    /// <summary>How long evaluating the specs may take (KilnEvaluationTimeout), in seconds.</summary>
    public int TimeoutSeconds { get; init; } = KilnDefaults.EvaluationTimeoutSeconds;
}

/// <summary>
/// What planning and writing layers need: the spec project (relative paths in specs are resolved against it), where
/// its inputs may come from, the publish outputs MSBuild produced, and the engine's state directory.
/// </summary>
public sealed record ProjectOptions
{
    /// <summary>The spec project's directory; relative paths in specs are resolved against it.</summary>
    public required string ProjectDirectory { get; init; }

    /// <summary>Where the engine keeps its own state between builds (obj/&lt;Configuration&gt;/kiln/).</summary>
    public required string IntermediateDirectory { get; init; }

    /// <summary>How Kiln's own layers are compressed (KilnLayerCompression): gzip (default) or zstd.</summary>
    public Kiln.Oci.LayerCompression LayerCompression { get; init; } = Kiln.Oci.LayerCompression.Gzip;

    /// <summary>The build configuration, used as the default for publish-output layers.</summary>
    public string Configuration { get; init; } = "Debug";

    /// <summary>Every timestamp in the image (SOURCE_DATE_EPOCH semantics).</summary>
    public long SourceDateEpoch { get; init; }

    /// <summary>
    /// Directories besides the project's that layer sources may come from (KilnInputRoots), relative to
    /// <see cref="ProjectDirectory"/> or absolute. Empty: only the project's own files.
    /// </summary>
    public ImmutableArray<string> InputRoots { get; init; } = [];

    /// <summary>The publish directories MSBuild produced for the specs' publish-output layers.</summary>
    public ImmutableArray<PublishedProject> PublishedProjects { get; init; } = [];

    /// <summary>
    /// The platforms to build (KilnPlatforms), narrowing every server's own list; empty builds every platform the
    /// specs declare. Every server must declare each of them (KILN2144).
    /// </summary>
    public ImmutableArray<Kiln.Spec.Platform> Platforms { get; init; } = [];
}

/// <summary>How kiln.lock.json is treated.</summary>
public sealed record LockOptions
{
    /// <summary>
    /// <c>Update</c> records new facts (and warns when a locked version's content changed), <c>Enforce</c> fails on any
    /// difference (CI), <c>Off</c> neither checks nor records versions. Package pins are only re-resolved when
    /// <see cref="Update"/> is set.
    /// </summary>
    public string Mode { get; init; } = "Update";

    /// <summary>The explicit act of updating the lock: re-resolve pinned inputs and accept changed content.</summary>
    public bool Update { get; init; }
}

/// <summary>Where Debian package bases come from and how their indexes are checked.</summary>
public sealed record PackageOptions
{
    /// <summary>The shared download cache (KILN_CACHE; by default under the user's home), passed in by the edge.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>
    /// The Debian mirror package bases come from (<c>http://deb.debian.org/debian</c>); when null, the first mirror
    /// named by <see cref="AptSources"/> that serves the suite.
    /// </summary>
    public string? Mirror { get; init; }

    /// <summary>
    /// The Debian security archive the <c>&lt;suite&gt;-security</c> suite comes from
    /// (<c>http://deb.debian.org/debian-security</c>); when null, the apt source that serves it, else the mirror with
    /// <c>/debian</c> replaced by <c>/debian-security</c>, else the mirror itself.
    /// </summary>
    public string? SecurityMirror { get; init; }

    /// <summary>apt source files (deb822 <c>*.sources</c> or one-line <c>sources.list</c>) the edge found on the machine.</summary>
    public ImmutableArray<string> AptSources { get; init; } = [];

    /// <summary>The OpenPGP keyring InRelease files must verify against (default: Debian's archive keyring).</summary>
    public string Keyring { get; init; } = KilnDefaults.DebianKeyring;

    /// <summary>The clock a Release file's Valid-Until is checked against (the edge passes the system clock).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>How registry bases are reached and where they are cached.</summary>
public sealed record RegistryOptions
{
    /// <summary>Credentials sources, insecure registries, extra CAs, from the edge.</summary>
    public Kiln.Engine.Registry.RegistrySettings Access { get; init; } = new();

    /// <summary>The shared download cache pulled bases go into; when null, a cache under the intermediate directory.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>
    /// The PEM public key (absolute path) every registry base must carry Kiln provenance signed with
    /// (KilnBaseVerificationKey); null takes bases on their digest alone. Layout and archive bases cannot be verified
    /// and are refused while it is set.
    /// </summary>
    public string? BaseVerificationKey { get; init; }
}

/// <summary>What rendering deployments needs.</summary>
public sealed record DeploymentOptions
{
    /// <summary>The registry host images are pushed to and deployments pull from (KilnRegistry), for example <c>registry.example.com</c>.</summary>
    public string? Registry { get; init; }

    /// <summary>The repository path under <see cref="Registry"/> (KilnRepositoryPrefix), for example <c>acme/shop</c>.</summary>
    public string? RepositoryPrefix { get; init; }

    /// <summary>
    /// The PEM public key deployments' images must be signed with (KilnVerificationKey), relative to the project
    /// directory or absolute: with it, every deployment also gets an admission policy
    /// (deploy/&lt;deployment&gt;/&lt;deployment&gt;.kyverno-clusterpolicy.yaml).
    /// </summary>
    public string? VerificationKey { get; init; }
}

/// <summary>What the attestations of a build need.</summary>
public sealed record AttestationOptions
{
    /// <summary>
    /// The PEM file of the ECDSA P-256 key that signs the provenance (KilnSigningKey, else KILN_SIGNING_KEY), relative
    /// to the project directory or absolute; null builds unsigned attestations.
    /// </summary>
    public string? SigningKey { get; init; }

    /// <summary>Facts about the build recorded in the manifests' build section and the provenance, never in a digest.</summary>
    public BuildProvenance Provenance { get; init; } = new();
}

/// <summary>A project MSBuild published for a publish-output layer.</summary>
/// <param name="Key">The key the evaluation gave the layer (see <see cref="PublishRequirement.Key"/>).</param>
/// <param name="Directory">The publish directory.</param>
public sealed partial record PublishedProject(string Key, string Directory)
{
    /// <summary>
    /// The engine command's <c>--published KEY=DIRECTORY</c>. A key ends in <c>-</c> and 12 hexadecimal digits but
    /// starts with the project's file name, which may itself hold <c>=</c>: the pair is split at the first <c>=</c>
    /// that follows such an ending.
    /// </summary>
    /// <exception cref="Diagnostics.KilnException">KILN4002 when <paramref name="pair"/> is not of that form.</exception>
    public static PublishedProject Parse(string pair)
    {
        var match = Pair().Match(pair);
        if (!match.Success)
        {
            throw new Diagnostics.KilnException(Diagnostics.DiagnosticCodes.InvalidRequest, $"--published '{pair}' is not KEY=DIRECTORY (KEY ending in - and 12 hexadecimal digits).");
        }

        return new PublishedProject(match.Groups["key"].Value, match.Groups["directory"].Value);
    }

    [System.Text.RegularExpressions.GeneratedRegex("^(?<key>.*?-[0-9a-f]{12})=(?<directory>.+)$", System.Text.RegularExpressions.RegexOptions.Singleline | System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex Pair();
}

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
