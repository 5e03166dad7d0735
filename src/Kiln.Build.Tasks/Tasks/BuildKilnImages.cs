namespace Kiln.Build.Tasks;

/// <summary>Builds every image of the spec assembly into KilnOutputPath.</summary>
public sealed class BuildKilnImages : KilnEngineTask
{
    /// <inheritdoc />
    protected override string Verb => "build";
}
