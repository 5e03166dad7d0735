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

    /// <inheritdoc />
    protected override void AppendVerbSwitches(CommandLineBuilder builder) => builder.AppendSwitchIfNotNull("--publish-list ", PublishListFile);
}
