using Microsoft.Build.Framework;

namespace Kiln.Build.Tasks;

public abstract partial class KilnEngineTask
{
    /// <summary>The compiled spec assembly.</summary>
    [Required]
    public string Assembly { get; set; } = "";

    /// <summary>The spec project's directory.</summary>
    [Required]
    public string ProjectDirectory { get; set; } = "";

    /// <summary>KilnOutputPath.</summary>
    [Required]
    public string OutputDirectory { get; set; } = "";

    /// <summary>KilnIntermediatePath.</summary>
    [Required]
    public string IntermediateDirectory { get; set; } = "";

    /// <summary>KilnSourceDateEpoch.</summary>
    public string? SourceDateEpoch { get; set; }

    /// <summary>$(Configuration).</summary>
    public string? Configuration { get; set; }

    /// <summary>$(PathMap), to map PDB paths back to files.</summary>
    public string? PathMap { get; set; }

    /// <summary>$(KilnSigningKey): the PEM file of the provenance signing key; only its path is passed, never its content.</summary>
    public string? SigningKey { get; set; }

    /// <summary>$(KilnVerificationKey): the PEM public key deployments' images must be signed with.</summary>
    public string? VerificationKey { get; set; }

    /// <summary>$(KilnBaseVerificationKey): the PEM public key every registry base's provenance must be signed with.</summary>
    public string? BaseVerificationKey { get; set; }

    /// <summary>The package version, for the manifests' build section.</summary>
    public string? KilnVersion { get; set; }

    /// <summary>$(NETCoreSdkVersion).</summary>
    public string? SdkVersion { get; set; }

    /// <summary>$(SourceRevisionId).</summary>
    public string? SourceRevision { get; set; }

    /// <summary>An identifier of the CI run, if any.</summary>
    public string? ContinuousIntegrationRun { get; set; }

    /// <summary>KilnDebianMirror: the mirror package bases come from (default: the machine's apt sources).</summary>
    public string? DebianMirror { get; set; }

    /// <summary>KilnDebianSecurityMirror: the archive the security suite comes from (default: the apt sources, else the mirror's debian-security sibling).</summary>
    public string? DebianSecurityMirror { get; set; }

    /// <summary>KilnDebianKeyring: the keyring the suite's InRelease must verify against.</summary>
    public string? DebianKeyring { get; set; }

    /// <summary>KilnAptSources: ';'-separated apt source files the default mirror comes from, or "none" (default: the machine's).</summary>
    public string? AptSources { get; set; }

    /// <summary>KilnCacheDirectory: the shared download cache.</summary>
    public string? CacheDirectory { get; set; }

    /// <summary>KilnUpdateLock: re-resolve the pinned package sets of package bases.</summary>
    public bool UpdateLock { get; set; }

    /// <summary>KilnLockMode: Update (local default) or Enforce (default when ContinuousIntegrationBuild is true).</summary>
    public string? LockMode { get; set; }

    /// <summary>KilnSourceTreeDirty: true/false when known; empty lets the engine ask git.</summary>
    public string? SourceTreeDirty { get; set; }

    /// <summary>KilnInsecureRegistries: registries (host[:port], ';'-separated) that may be reached over plain HTTP.</summary>
    public string? InsecureRegistries { get; set; }

    /// <summary>KilnInputRoots: directories besides the project's that layer sources may come from (';'-separated, relative to the project).</summary>
    public string? InputRoots { get; set; }

    /// <summary>KilnPlatforms: the platforms to build (<c>linux/arm64</c>, ';'- or ','-separated); empty builds every platform the specs declare.</summary>
    public string? Platforms { get; set; }

    /// <summary>KilnEvaluationTimeout: seconds spec evaluation may take before the engine stops it.</summary>
    public string? EvaluationTimeout { get; set; }

    /// <summary>The published projects (KilnPublishKey, KilnPublishDir metadata).</summary>
    public ITaskItem[]? PublishedProjects { get; set; }

    /// <summary>KilnBuildLockTimeout: seconds an image build or push waits for another one of the same output directory.</summary>
    public string? BuildLockTimeout { get; set; }
}
