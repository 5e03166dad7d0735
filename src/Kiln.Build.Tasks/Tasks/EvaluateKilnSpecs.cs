using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Kiln.Build.Tasks;

/// <summary>
/// Evaluates the specs and writes the projects they publish to <see cref="PublishListFile"/>, one per line
/// (<c>KEY|PROJECT|PUBLISHDIR|PROPERTIES</c>); the targets read it with ReadLinesFromFile.
/// </summary>
public sealed class EvaluateKilnSpecs : KilnEngineTask
{
    /// <summary>The file the engine writes the publish list into.</summary>
    [Required]
    public string PublishListFile { get; set; } = "";

    /// <inheritdoc />
    protected override string Verb => "evaluate";

    /// <summary>How long after KilnEvaluationTimeout MSBuild waits before it kills an engine that did not exit.</summary>
    private const int GraceSeconds = 30;

    private int _backstopSeconds;

    /// <inheritdoc />
    protected override void AppendVerbSwitches(CommandLineBuilder builder) => builder.AppendSwitchIfNotNull("--publish-list ", PublishListFile);

    /// <inheritdoc />
    protected override int ExecuteTool(string pathToTool, string responseFileCommands, string commandLineCommands)
    {
        // The engine stops spec code itself when KilnEvaluationTimeout runs out, and exits. Should it not (spec code
        // holding a foreground thread), MSBuild kills the engine's process tree a little later: no engine outlives the build.
        if (Timeout == System.Threading.Timeout.Infinite)
        {
            var seconds = int.TryParse(EvaluationTimeout, out var parsed) && parsed > 0 ? parsed : 60;
            _backstopSeconds = seconds + GraceSeconds;
            Timeout = _backstopSeconds * 1000;
        }

        return base.ExecuteTool(pathToTool, responseFileCommands, commandLineCommands);
    }

    /// <inheritdoc />
    protected override bool HandleTaskExecutionErrors()
    {
        if (!Log.HasLoggedErrors && _backstopSeconds > 0 && ExitCode == -1)
        {
            Log.LogError(null, "KILN2115", null, null, 0, 0, 0, 0,
                "The Kiln engine did not finish evaluating the specs within {0} s and was stopped. Spec code must compute its values promptly; if it really needs longer, raise KilnEvaluationTimeout (seconds).", _backstopSeconds);
            return false;
        }

        return base.HandleTaskExecutionErrors();
    }
}
