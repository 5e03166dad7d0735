using System;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Kiln.Build.Tasks;

/// <summary>
/// Builds every image of the spec assembly into KilnOutputPath. With <see cref="Prepare"/> it only gives the engine's
/// command line (<see cref="CommandLine"/>, run by <see cref="RunKilnImageBuild"/> once MSBuild knows the images are out
/// of date), and with <see cref="Prestart"/> also starts that engine at once, to do its start-up, spec evaluation and
/// bases while the publish runs.
/// </summary>
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

    /// <summary>Do not run the engine: give its command line in <see cref="CommandLine"/>.</summary>
    public bool Prepare { get; set; }

    /// <summary>
    /// With <see cref="Prepare"/>: also start the engine now, waiting for the publish (registered for this build, for
    /// <see cref="RunKilnImageBuild"/> to take over or call off). Only where the task runs in the MSBuild node itself,
    /// not in a task host process that ends with the task.
    /// </summary>
    public bool Prestart { get; set; }

    /// <summary>
    /// With <see cref="Prestart"/>: the keys of the publishes about to run. The engine reads every other publish output
    /// (and imports the bases) before it waits.
    /// </summary>
    public string[]? Publishing { get; set; }

    /// <summary>The engine's command line (after the dotnet host), for <see cref="RunKilnImageBuild"/>.</summary>
    [Output]
    public string? CommandLine { get; set; }

    /// <inheritdoc />
    public override bool Execute()
    {
        if (!Prepare)
        {
            return ValidateParameters() && (RunInEngineServer(GenerateCommandLineCommands()) ?? base.Execute());
        }

        if (!ValidateParameters())
        {
            return false;
        }

        CommandLine = GenerateCommandLineCommands();
        if (Prestart)
        {
            StartEarly(CommandLine);
        }

        return true;
    }

    private void StartEarly(string commandLine)
    {
        var key = PrestartedEngine.KeyFor(commandLine);
        (BuildEngine4.UnregisterTaskObject(key, RegisteredTaskObjectLifetime.Build) as IDisposable)?.Dispose();
        try
        {
            var wait = new CommandLineBuilder();
            wait.AppendSwitch(PrestartedEngine.WaitSwitch);
            foreach (var publishKey in Publishing ?? [])
            {
                wait.AppendSwitchIfNotNull("--publishing ", publishKey);
            }

            var engine = PrestartedEngine.Start(GetProcessStartInfo(GenerateFullPathToTool(), commandLine + " " + wait, null!), EngineServerFor());
            BuildEngine4.RegisterTaskObject(key, engine, RegisteredTaskObjectLifetime.Build, allowEarlyCollection: false);
            Log.LogMessage(MessageImportance.Normal, "Kiln: starting the image build, to prepare while the publish runs.");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or System.IO.IOException)
        {
            // Not started early: it is started when the images turn out to be out of date, as without a publish.
            Log.LogMessage(MessageImportance.Normal, "Kiln: the image build was not started early ({0}); it starts after the publish.", e.Message);
        }
    }

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
