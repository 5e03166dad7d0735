using System.Text.RegularExpressions;
using System.Xml.Linq;
using Kiln.Shared;

namespace Kiln.Engine.Tests.Settings;

/// <summary>
/// Every engine option the MSBuild tasks pass that changes an image's bytes (or what is checked about it) must be a
/// field of the settings stamp (src/Shared/KilnBuildSettings.cs), or the build keeps stale images when it changes. A new
/// option fails here until it is given a field or declared, with the reason, as no image input.
/// </summary>
public sealed partial class BuildSettingsCoverageTests
{
    // Engine switch -> the stamp field that records the setting behind it.
    private static readonly Dictionary<string, string> ImageInputs = new(StringComparer.Ordinal)
    {
        ["--source-date-epoch"] = "epoch",
        ["--configuration"] = "configuration",
        ["--output"] = "output",
        ["--kiln-version"] = "version",
        ["--layer-compression"] = "layer-compression",
        ["--archive-format"] = "archive-format",
        ["--signing-key"] = "signing-key",
        ["--verification-key"] = "verification-key",
        ["--base-verification-key"] = "base-verification-key",
        ["--deploy-registry"] = "deploy-registry",
        ["--deploy-repository-prefix"] = "deploy-repository-prefix",
        ["--debian-mirror"] = "debian-mirror",
        ["--debian-security-mirror"] = "debian-security-mirror",
        ["--debian-keyring"] = "debian-keyring",
        ["--apt-sources"] = "apt-sources",
        ["--update-lock"] = "update-lock",
        ["--lock-mode"] = "lock-mode",
        ["--input-root"] = "input-roots",
        ["--platform"] = "platforms",
    };

    // Engine switch -> why a change of it alone need not re-run the engine.
    private static readonly Dictionary<string, string> NotImageInputs = new(StringComparer.Ordinal)
    {
        ["--assembly"] = "the spec assembly itself is an input file of both targets",
        ["--project-dir"] = "moving the project moves obj/ too, so the stamp is rewritten anyway",
        ["--intermediate"] = "where the stamp itself lives",
        ["--path-map"] = "maps PDB paths back to files for diagnostics; a change recompiles the assembly, an input",
        ["--published"] = "the publish outputs, whose list (publish.txt) is an input file",
        ["--publish-list"] = "the evaluation's output file",
        ["--publishing"] = "which publish outputs an engine started early waits for, not what it reads from them",
        ["--cache-dir"] = "a download cache: content-addressed, the same bytes from any directory",
        ["--evaluation-timeout"] = "how long evaluation may take, not what it produces",
        ["--build-lock-timeout"] = "how long a build waits for another, not what it produces",
        ["--insecure-registry"] = "how registries are reached; bases are pinned by digest",
        ["--sdk-version"] = "provenance of the build, recorded when the engine runs for another reason",
        ["--source-revision"] = "provenance of the build, recorded when the engine runs for another reason",
        ["--ci-run"] = "provenance of the build, recorded when the engine runs for another reason",
        ["--source-tree-dirty"] = "provenance of the build, recorded when the engine runs for another reason",
        ["--registry"] = "push only (KilnPush), which never writes an image",
        ["--repository-prefix"] = "push only (KilnPush), which never writes an image",
        ["--allow-tag-overwrite"] = "push only (KilnPush), which never writes an image",
        ["--tag"] = "push only (KilnPush), which never writes an image",
        ["--socket"] = "the engine server's own command line (kiln engine-server): where it listens, not a build's",
        ["--idle-seconds"] = "the engine server's own command line (kiln engine-server): when it stops, not what a build writes",
    };

    [Fact]
    public void EngineSwitches_EverySwitchTheTasksPass_IsAStampFieldOrDeclaredNoImageInput()
    {
        var switches = TaskSwitches();

        Assert.Contains("--source-date-epoch", switches); // the scan itself works
        var unclassified = switches.Where(s => !ImageInputs.ContainsKey(s) && !NotImageInputs.ContainsKey(s)).ToList();
        Assert.True(unclassified.Count == 0,
            "Engine options passed by src/Kiln.Build.Tasks/Tasks that are neither a field of KilnBuildSettings nor declared "
            + "as no image input here: " + string.Join(", ", unclassified)
            + ". Add a field (and a WriteKilnSettings parameter) when a change of it changes an image, else declare why not.");
        Assert.Empty(ImageInputs.Keys.Intersect(NotImageInputs.Keys));
    }

    [Fact]
    public void ImageInputs_EveryMappedField_ExistsInTheStamp()
    {
        var missing = ImageInputs.Values.Where(f => !KilnBuildSettings.Names.Contains(f)).ToList();

        Assert.True(missing.Count == 0, "Fields named here but missing from KilnBuildSettings: " + string.Join(", ", missing));
    }

    [Fact]
    public void WriteKilnSettings_InTheTargets_IsGivenEveryField()
    {
        var targets = XDocument.Load(Path.Combine(Repo.Root, "src", "Kiln.Build.Tasks", "build", "Kiln.Build.targets"));
        var calls = targets.Descendants().Where(e => e.Name.LocalName == "WriteKilnSettings").ToList();

        var call = Assert.Single(calls);
        var parameters = call.Attributes().Select(a => a.Name.LocalName).ToHashSet(StringComparer.Ordinal);
        var missing = KilnBuildSettings.Names.Select(ParameterOf).Where(p => !parameters.Contains(p)).ToList();
        Assert.True(missing.Count == 0, "WriteKilnSettings in Kiln.Build.targets is not given: " + string.Join(", ", missing));
        Assert.DoesNotContain(targets.Descendants(), e => e.Name.LocalName == "_KilnSetting");
    }

    [Fact]
    public void WriteKilnSettings_TheTask_HasAParameterPerField()
    {
        var source = File.ReadAllText(Path.Combine(Repo.Root, "src", "Kiln.Build.Tasks", "Tasks", "WriteKilnSettings.cs"));

        var missing = KilnBuildSettings.Names
            .Where(n => !source.Contains(" " + ParameterOf(n) + " { get; set; }", StringComparison.Ordinal)
                        || !source.Contains(CamelOf(n) + ": ", StringComparison.Ordinal))
            .ToList();
        Assert.True(missing.Count == 0, "WriteKilnSettings does not take or pass on: " + string.Join(", ", missing));
    }

    /// <summary>Every <c>--switch</c> literal the engine tasks append to the engine's command line.</summary>
    private static SortedSet<string> TaskSwitches()
    {
        var switches = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Repo.Root, "src", "Kiln.Build.Tasks", "Tasks"), "*.cs"))
        {
            foreach (Match match in SwitchLiteral().Matches(File.ReadAllText(file)))
            {
                switches.Add(match.Groups[1].Value);
            }
        }

        return switches;
    }

    private static string ParameterOf(string field) =>
        string.Concat(field.Split('-').Select(part => char.ToUpperInvariant(part[0]) + part[1..]));

    private static string CamelOf(string field)
    {
        var pascal = ParameterOf(field);
        return char.ToLowerInvariant(pascal[0]) + pascal[1..];
    }

    [GeneratedRegex("Append\\w*\\(\\s*\"(--[a-z][a-z0-9-]*)")]
    private static partial Regex SwitchLiteral();
}
