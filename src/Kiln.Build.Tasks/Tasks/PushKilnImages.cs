using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Kiln.Build.Tasks;

/// <summary>
/// Pushes every image of KilnOutputPath to KilnRegistry: blobs the registry lacks (one log line per blob at normal
/// verbosity), each manifest by digest, then its tag; the pushed references are recorded in release.json.
/// </summary>
public sealed class PushKilnImages : KilnEngineTask
{
    /// <summary>KilnRegistry: host[:port].</summary>
    [Required]
    public string Registry { get; set; } = "";

    /// <summary>KilnRepositoryPrefix: images go to REGISTRY/PREFIX/NAME.</summary>
    public string? RepositoryPrefix { get; set; }

    /// <summary>KilnAllowTagOverwrite: let a version tag that names another digest be moved (a deliberate repair).</summary>
    public bool AllowTagOverwrite { get; set; }

    /// <summary>KilnExtraTags: moving tags pushed after each version tag, separated by ';' or ','.</summary>
    public string? ExtraTags { get; set; }

    /// <inheritdoc />
    protected override string Verb => "push";

    /// <inheritdoc />
    protected override bool ValidateParameters()
    {
        if (string.IsNullOrWhiteSpace(Registry))
        {
            Log.LogError(null, "KILN1011", null, null, 0, 0, 0, 0, "KilnPush needs a registry: set KilnRegistry, for example -p:KilnRegistry=registry.example.com or -p:KilnRegistry=127.0.0.1:5000.");
            return false;
        }

        return base.ValidateParameters();
    }

    /// <inheritdoc />
    protected override void AppendVerbSwitches(CommandLineBuilder builder)
    {
        builder.AppendSwitchIfNotNull("--registry ", Registry.Trim());
        AppendBuildLockSwitch(builder);
        builder.AppendSwitchIfNotNull("--repository-prefix ", string.IsNullOrWhiteSpace(RepositoryPrefix) ? null : RepositoryPrefix!.Trim());
        if (AllowTagOverwrite)
        {
            builder.AppendSwitch("--allow-tag-overwrite");
        }

        foreach (var tag in (ExtraTags ?? "").Split(new[] { ';', ',' }, System.StringSplitOptions.RemoveEmptyEntries))
        {
            builder.AppendSwitchIfNotNull("--tag ", tag.Trim());
        }
    }
}
