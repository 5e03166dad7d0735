using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;
using Kiln.Engine.Diagnostics;

namespace Kiln.Engine.Requests;

/// <summary>
/// Everything one build needs, passed in explicitly: the engine never reads the clock, the environment or the current
/// directory itself. MSBuild writes it as JSON and hands its path to the engine process.
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

    /// <summary>apt source files (deb822 <c>*.sources</c> or one-line <c>sources.list</c>) the edge found on the machine.</summary>
    public ImmutableArray<string> AptSources { get; init; } = [];

    /// <summary>The OpenPGP keyring InRelease files must verify against (default: Debian's archive keyring).</summary>
    public string DebianKeyring { get; init; } = "/usr/share/keyrings/debian-archive-keyring.gpg";

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

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    /// <summary>Reads a request file.</summary>
    public static BuildRequest Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<BuildRequest>(File.ReadAllBytes(path), Options)
                ?? throw new KilnException(DiagnosticCodes.InvalidRequest, $"The build request '{path}' is empty.");
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new KilnException(DiagnosticCodes.InvalidRequest, $"The build request '{path}' could not be read: {e.Message}");
        }
    }

    /// <summary>Writes a request file.</summary>
    public void Save(string path) => File.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(this, Options));
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
/// <param name="Properties">The MSBuild global properties to publish it with (<c>A=B;C=D</c>).</param>
public sealed record PublishRequirement(string Key, string Project, string Properties);
