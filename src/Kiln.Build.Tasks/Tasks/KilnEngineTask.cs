using System;
using System.IO;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Kiln.Build.Tasks;

/// <summary>
/// Runs the Kiln engine in its own process (<c>dotnet kiln.dll engine …</c>). The user's spec assembly is therefore
/// loaded outside the MSBuild node: every build sees the current spec, no file stays locked, and the task loads in any
/// MSBuild (dotnet build, Visual Studio). The engine prints coded errors in the canonical form, which this task logs as
/// MSBuild errors with their file and line.
/// </summary>
public abstract partial class KilnEngineTask : ToolTask
{
    /// <summary>The engine verb: evaluate or build.</summary>
    protected abstract string Verb { get; }

    /// <inheritdoc />
    protected override string ToolName => "dotnet";

    /// <inheritdoc />
    protected override MessageImportance StandardOutputLoggingImportance => MessageImportance.Normal;

    /// <inheritdoc />
    protected override string GenerateFullPathToTool()
    {
        if (!string.IsNullOrEmpty(DotnetHostPath) && File.Exists(DotnetHostPath))
        {
            return DotnetHostPath!;
        }

        var fromEnvironment = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return !string.IsNullOrEmpty(fromEnvironment) && File.Exists(fromEnvironment) ? fromEnvironment! : ToolName;
    }

    /// <inheritdoc />
    protected override System.Diagnostics.ProcessStartInfo GetProcessStartInfo(string pathToTool, string commandLineCommands, string responseFileSwitch)
    {
        var start = base.GetProcessStartInfo(pathToTool, commandLineCommands, responseFileSwitch);

        // The runtime's LTTng tracepoint provider is a shared library loaded at every start-up; the engine is started
        // on every image build and traced through its own output, so it goes without (unless the user asks for it).
        if (!start.Environment.ContainsKey("DOTNET_LTTng"))
        {
            start.Environment["DOTNET_LTTng"] = "0";
        }

        return start;
    }

    /// <inheritdoc />
    protected override bool ValidateParameters()
    {
        if (!File.Exists(EnginePath))
        {
            Log.LogError(null, "KILN4003", null, null, 0, 0, 0, 0,
                "The Kiln engine was not found at '{0}'. Restore the Kiln.Build package again, or set KilnEnginePath to the engine's kiln.dll.", EnginePath);
            return false;
        }

        return true;
    }

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

    /// <inheritdoc />
    protected override void LogEventsFromTextOutput(string singleLine, MessageImportance messageImportance)
    {
        // A build that waits for another one must say so at the default verbosity, or it looks hung.
        if (singleLine.StartsWith(WaitingPrefix, StringComparison.Ordinal))
        {
            Log.LogMessage(MessageImportance.High, singleLine);
            return;
        }

        base.LogEventsFromTextOutput(singleLine, messageImportance);
    }

    private const string WaitingPrefix = "kiln: waiting for another Kiln build";

    /// <inheritdoc />
    protected override bool HandleTaskExecutionErrors()
    {
        if (Log.HasLoggedErrors)
        {
            return false; // the engine already said what is wrong, with its KILN code
        }

        Log.LogError(null, "KILN3001", null, null, 0, 0, 0, 0,
            "The Kiln engine exited with code {0} without reporting an error. Run the build with -v:detailed to see its output.", ExitCode);
        return false;
    }
}
