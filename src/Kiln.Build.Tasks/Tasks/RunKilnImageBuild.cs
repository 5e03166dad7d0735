using System;
using Microsoft.Build.Framework;

namespace Kiln.Build.Tasks;

/// <summary>
/// Runs the image build <see cref="BuildKilnImages"/> prepared: takes over the engine it started before the publish
/// (lets it go on and logs its output), or starts the engine now. With <see cref="CallOff"/> it only stops an engine
/// started early that is not needed (the images turned out up to date); with <see cref="Go"/> it only lets it go on.
/// </summary>
public sealed class RunKilnImageBuild : KilnToolTask
{
    /// <summary>The engine's command line, from <see cref="BuildKilnImages.CommandLine"/>.</summary>
    [Required]
    public string CommandLine { get; set; } = "";

    /// <summary>Only call off an engine started early for <see cref="CommandLine"/>, if any.</summary>
    public bool CallOff { get; set; }

    /// <summary>
    /// Only let an engine started early for <see cref="CommandLine"/> go on (the publish is done), if any; a later call
    /// without it takes the engine over.
    /// </summary>
    public bool Go { get; set; }

    /// <summary>KilnIntermediatePath, where the engine keeps its JIT profile.</summary>
    public string? IntermediateDirectory { get; set; }

    /// <inheritdoc />
    protected override string? JitProfile => JitProfileIn(IntermediateDirectory, "build");

    /// <inheritdoc />
    public override bool Execute()
    {
        var key = PrestartedEngine.KeyFor(CommandLine);
        if (Go)
        {
            if (BuildEngine4.GetRegisteredTaskObject(key, RegisteredTaskObjectLifetime.Build) is PrestartedEngine started && started.WaitForStart() is null)
            {
                started.Go();
            }

            return true;
        }

        var engine = BuildEngine4.UnregisterTaskObject(key, RegisteredTaskObjectLifetime.Build) as PrestartedEngine;
        if (engine?.WaitForStart() is { } failure)
        {
            // Started on a pool thread: a failure shows here. Without it, the engine runs now, as without a publish.
            engine.Dispose();
            engine = null;
            Log.LogMessage(MessageImportance.Normal, "Kiln: the image build could not be started early ({0}).", failure);
        }

        if (CallOff)
        {
            if (engine is not null)
            {
                Log.LogMessage(MessageImportance.Normal, "Kiln: the images are up to date; stopping the image build started early ({0}).", engine.Where);
                engine.Dispose();
            }

            return true;
        }

        if (engine is not null)
        {
            return RunAttached(engine, startedEarly: true);
        }

        return ValidateParameters() && (RunInEngineServer(CommandLine) ?? base.Execute());
    }

    /// <inheritdoc />
    protected override string GenerateCommandLineCommands() => CommandLine;
}
