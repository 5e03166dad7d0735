using Microsoft.Build.Utilities;

namespace Kiln.Build.Tasks;

/// <summary>Builds every image of the spec assembly into KilnOutputPath.</summary>
public sealed class BuildKilnImages : KilnEngineTask
{
    /// <inheritdoc />
    protected override string Verb => "build";

    /// <summary>KilnRegistry: the registry deployments pull images from (deploy/*.yaml reference REGISTRY/PREFIX/NAME@digest).</summary>
    public string? DeployRegistry { get; set; }

    /// <summary>KilnRepositoryPrefix: the repository path under the registry.</summary>
    public string? DeployRepositoryPrefix { get; set; }

    /// <summary>KilnArchiveFormat: oci-archive or docker-archive to also write every image as an archive beside the layout.</summary>
    public string? ArchiveFormat { get; set; }

    /// <summary>KilnLayerCompression: gzip (default) or zstd.</summary>
    public string? LayerCompression { get; set; }

    /// <inheritdoc />
    protected override void AppendVerbSwitches(CommandLineBuilder builder)
    {
        base.AppendVerbSwitches(builder);
        AppendBuildLockSwitch(builder);
        builder.AppendSwitchIfNotNull("--layer-compression ", string.IsNullOrWhiteSpace(LayerCompression) ? null : LayerCompression!.Trim());
        builder.AppendSwitchIfNotNull("--archive-format ", string.IsNullOrWhiteSpace(ArchiveFormat) ? null : ArchiveFormat!.Trim());
        builder.AppendSwitchIfNotNull("--deploy-registry ", string.IsNullOrWhiteSpace(DeployRegistry) ? null : DeployRegistry!.Trim());
        builder.AppendSwitchIfNotNull("--deploy-repository-prefix ", string.IsNullOrWhiteSpace(DeployRepositoryPrefix) ? null : DeployRepositoryPrefix!.Trim());
    }
}
