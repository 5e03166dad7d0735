using System;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Kiln.Build.Tasks;

/// <summary>
/// An engine verb over one spec project: the project's settings as parameters, turned into the engine's switches.
/// </summary>
public abstract partial class KilnEngineTask : KilnToolTask
{
    /// <summary>The engine verb: evaluate or build.</summary>
    protected abstract string Verb { get; }

    /// <inheritdoc />
    protected override string? JitProfile => JitProfileIn(IntermediateDirectory, Verb);

    /// <inheritdoc />
    protected override string GenerateCommandLineCommands()
    {
        var builder = new CommandLineBuilder();
        builder.AppendSwitch("exec");
        builder.AppendFileNameIfNotNull(EnginePath);
        builder.AppendSwitch("engine");
        builder.AppendSwitch(Verb);
        builder.AppendSwitchIfNotNull("--assembly ", Assembly);
        builder.AppendSwitchIfNotNull("--project-dir ", ProjectDirectory);
        builder.AppendSwitchIfNotNull("--output ", OutputDirectory);
        builder.AppendSwitchIfNotNull("--intermediate ", IntermediateDirectory);
        builder.AppendSwitchIfNotNull("--source-date-epoch ", string.IsNullOrWhiteSpace(SourceDateEpoch) ? "0" : SourceDateEpoch!.Trim());
        builder.AppendSwitchIfNotNull("--configuration ", Configuration);
        builder.AppendSwitchIfNotNull("--path-map ", string.IsNullOrEmpty(PathMap) ? null : PathMap);
        builder.AppendSwitchIfNotNull("--kiln-version ", KilnVersion);
        builder.AppendSwitchIfNotNull("--sdk-version ", SdkVersion);
        builder.AppendSwitchIfNotNull("--source-revision ", string.IsNullOrEmpty(SourceRevision) ? null : SourceRevision);
        builder.AppendSwitchIfNotNull("--ci-run ", string.IsNullOrEmpty(ContinuousIntegrationRun) ? null : ContinuousIntegrationRun);
        builder.AppendSwitchIfNotNull("--debian-mirror ", string.IsNullOrEmpty(DebianMirror) ? null : DebianMirror);
        builder.AppendSwitchIfNotNull("--debian-security-mirror ", string.IsNullOrEmpty(DebianSecurityMirror) ? null : DebianSecurityMirror);
        builder.AppendSwitchIfNotNull("--debian-keyring ", string.IsNullOrEmpty(DebianKeyring) ? null : DebianKeyring);
        builder.AppendSwitchIfNotNull("--cache-dir ", string.IsNullOrEmpty(CacheDirectory) ? null : CacheDirectory);
        builder.AppendSwitchIfNotNull("--apt-sources ", string.IsNullOrEmpty(AptSources) ? null : AptSources);
        if (Verb == "build")
        {
            builder.AppendSwitchIfNotNull("--signing-key ", string.IsNullOrEmpty(SigningKey) ? null : SigningKey);
            builder.AppendSwitchIfNotNull("--verification-key ", string.IsNullOrEmpty(VerificationKey) ? null : VerificationKey);
            builder.AppendSwitchIfNotNull("--base-verification-key ", string.IsNullOrEmpty(BaseVerificationKey) ? null : BaseVerificationKey);
        }

        if (UpdateLock)
        {
            builder.AppendSwitch("--update-lock");
        }
        builder.AppendSwitchIfNotNull("--lock-mode ", string.IsNullOrEmpty(LockMode) ? null : LockMode);
        builder.AppendSwitchIfNotNull("--source-tree-dirty ", string.IsNullOrEmpty(SourceTreeDirty) ? null : SourceTreeDirty);
        foreach (var registry in (InsecureRegistries ?? "").Split(new[] { ';', ',' }, StringSplitOptions.RemoveEmptyEntries))
        {
            builder.AppendSwitchIfNotNull("--insecure-registry ", registry.Trim());
        }

        foreach (var root in (InputRoots ?? "").Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries))
        {
            if (root.Trim().Length > 0)
            {
                builder.AppendSwitchIfNotNull("--input-root ", root.Trim());
            }
        }

        // One switch per platform: the engine receives a list, never text to split again.
        foreach (var platform in (Platforms ?? "").Split(new[] { ';', ',' }, StringSplitOptions.RemoveEmptyEntries))
        {
            if (platform.Trim().Length > 0)
            {
                builder.AppendSwitchIfNotNull("--platform ", platform.Trim());
            }
        }

        builder.AppendSwitchIfNotNull("--evaluation-timeout ", string.IsNullOrWhiteSpace(EvaluationTimeout) ? null : EvaluationTimeout!.Trim());
        foreach (var project in PublishedProjects ?? Array.Empty<ITaskItem>())
        {
            builder.AppendSwitchIfNotNull("--published ", project.GetMetadata("KilnPublishKey") + "=" + project.GetMetadata("KilnPublishDir"));
        }

        AppendVerbSwitches(builder);
        return builder.ToString();
    }

    /// <summary>Switches only one verb takes.</summary>
    protected virtual void AppendVerbSwitches(CommandLineBuilder builder)
    {
    }

    /// <summary>For the verbs that write the output directory (build, push), which take turns on its lock.</summary>
    protected void AppendBuildLockSwitch(CommandLineBuilder builder) =>
        builder.AppendSwitchIfNotNull("--build-lock-timeout ", string.IsNullOrWhiteSpace(BuildLockTimeout) ? null : BuildLockTimeout!.Trim());
}
