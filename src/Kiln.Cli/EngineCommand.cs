using System.Collections.Immutable;
using System.CommandLine;
using System.Globalization;
using System.Security;
using System.Text;
using Kiln.Engine;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Requests;

namespace Kiln.Cli;

/// <summary>
/// <c>kiln engine evaluate|build</c>: the process Kiln's MSBuild tasks start, so that the user's spec assembly is
/// loaded outside the MSBuild node (no cached types between builds, no locked files), and the same engine call the
/// public verbs make. Not meant to be typed by people; hidden from help.
/// </summary>
internal static class EngineCommand
{
    private static readonly Option<string> Assembly = new("--assembly") { Required = true, Description = "The compiled spec assembly." };
    private static readonly Option<string> ProjectDirectory = new("--project-dir") { Required = true, Description = "The spec project's directory." };
    private static readonly Option<string> Output = new("--output") { Required = true, Description = "The artifact directory (bin/<Configuration>/kiln/)." };
    private static readonly Option<string> Intermediate = new("--intermediate") { Required = true, Description = "The engine's state directory (obj/<Configuration>/kiln/)." };
    private static readonly Option<string> Epoch = new("--source-date-epoch") { DefaultValueFactory = _ => "0", Description = "Seconds since the Unix epoch used for every timestamp." };
    private static readonly Option<string> Configuration = new("--configuration") { DefaultValueFactory = _ => "Debug" };
    private static readonly Option<string?> PathMap = new("--path-map");
    private static readonly Option<string[]> Published = new("--published") { AllowMultipleArgumentsPerToken = false, Description = "KEY=DIRECTORY of a publish output." };
    private static readonly Option<string?> KilnVersion = new("--kiln-version");
    private static readonly Option<string?> SdkVersion = new("--sdk-version");
    private static readonly Option<string?> SourceRevision = new("--source-revision");
    private static readonly Option<string?> CiRun = new("--ci-run");
    private static readonly Option<string> PublishList = new("--publish-list") { Required = true, Description = "Where to write the list of projects to publish." };

    public static Command Create()
    {
        var evaluate = new Command("evaluate", "Evaluate the specs and write the list of projects to publish.");
        var build = new Command("build", "Build the images of a compiled spec assembly.");
        foreach (var command in new[] { evaluate, build })
        {
            foreach (var option in new Option[] { Assembly, ProjectDirectory, Output, Intermediate, Epoch, Configuration, PathMap, Published, KilnVersion, SdkVersion, SourceRevision, CiRun })
            {
                command.Options.Add(option);
            }
        }

        evaluate.Options.Add(PublishList);
        evaluate.SetAction(result => Edge.Run(() => Evaluate(ToRequest(result), result.GetValue(PublishList)!)));
        build.SetAction(result => Edge.Run(() => Build(ToRequest(result))));
        return new Command("engine", "Run the engine for Kiln's MSBuild tasks.") { Hidden = true, Subcommands = { evaluate, build } };
    }

    private static BuildRequest ToRequest(ParseResult result)
    {
        var epochText = result.GetValue(Epoch)!;
        if (!long.TryParse(epochText, NumberStyles.None, CultureInfo.InvariantCulture, out var epoch) || epoch > 253402300799)
        {
            throw new KilnException(DiagnosticCodes.InvalidSourceDateEpoch, $"KilnSourceDateEpoch (or SOURCE_DATE_EPOCH) is '{epochText}', which is not a number of seconds since 1970-01-01. Set it to an integer such as the last commit's time (git log -1 --format=%ct), or leave it empty for 0.");
        }

        var published = ImmutableArray.CreateBuilder<PublishedProject>();
        foreach (var pair in result.GetValue(Published) ?? [])
        {
            var separator = pair.IndexOf('=');
            if (separator <= 0)
            {
                throw new KilnException(DiagnosticCodes.InvalidRequest, $"--published '{pair}' is not KEY=DIRECTORY.");
            }

            published.Add(new PublishedProject(pair[..separator], pair[(separator + 1)..]));
        }

        return new BuildRequest
        {
            Assembly = Path.GetFullPath(result.GetValue(Assembly)!),
            ProjectDirectory = Path.GetFullPath(result.GetValue(ProjectDirectory)!),
            OutputDirectory = Path.GetFullPath(result.GetValue(Output)!),
            IntermediateDirectory = Path.GetFullPath(result.GetValue(Intermediate)!),
            SourceDateEpoch = epoch,
            Configuration = result.GetValue(Configuration)!,
            PathMap = result.GetValue(PathMap),
            PublishedProjects = published.ToImmutable(),
            Provenance = new BuildProvenance
            {
                KilnVersion = result.GetValue(KilnVersion) ?? typeof(KilnEngine).Assembly.GetName().Version?.ToString(3),
                SdkVersion = result.GetValue(SdkVersion),
                SourceRevision = result.GetValue(SourceRevision),
                ContinuousIntegrationRun = result.GetValue(CiRun),
            },
        };
    }

    private static int Evaluate(BuildRequest request, string publishList)
    {
        var result = KilnEngine.Evaluate(request);
        foreach (var warning in result.Warnings)
        {
            Edge.Print(warning);
        }

        // One line per project: KEY|PROJECT|PUBLISHDIR|PROPERTIES, read by Kiln.Build.targets with ReadLinesFromFile.
        var lines = result.PublishRequirements.Select(p => $"{p.Key}|{p.Project}|{PublishDirectory(p)}|{p.Properties}");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(publishList))!);
        File.WriteAllText(publishList, string.Concat(lines.Select(l => l + "\n")));
        Console.Out.WriteLine($"kiln: {result.Servers.Length} server spec(s), {result.PublishRequirements.Length} project(s) to publish");
        return Edge.Ok;
    }

    private static string PublishDirectory(PublishRequirement p) =>
        p.Properties.Split(';').Select(s => s.Split('=', 2)).First(kv => kv[0] == "PublishDir")[1];

    private static string Escape(string value) => SecurityElement.Escape(value)!;

    /// <summary>
    /// The inputs as one MSBuild item list (<c>a;b/**</c>), which Kiln.Build.targets expands before the next build's
    /// up-to-date check; trees stay wildcards so that an added file makes the build run. Not an imported file: an
    /// import would count as a project file and make every compile target out of date.
    /// </summary>
    private static void WriteInputs(BuildRequest request, IEnumerable<string> inputs)
    {
        var items = inputs.Select(input => input.EndsWith("**", StringComparison.Ordinal) ? EscapeMSBuild(input[..^2]) + "**" : EscapeMSBuild(input));
        Directory.CreateDirectory(request.IntermediateDirectory);
        File.WriteAllText(Path.Combine(request.IntermediateDirectory, "inputs.txt"), string.Join(';', items));
    }

    /// <summary>MSBuild's escaping, so that a file named with '*', ';' or '$' is taken literally.</summary>
    private static string EscapeMSBuild(string value)
    {
        var text = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            text.Append(c is '%' or '*' or '?' or '@' or '$' or '(' or ')' or ';' or '\'' ? $"%{(int)c:X2}" : c.ToString());
        }

        return text.ToString();
    }

    private static int Build(BuildRequest request)
    {
        var result = KilnEngine.Build(request, line => Console.Out.WriteLine($"kiln: {line}"));
        foreach (var warning in result.Warnings)
        {
            Edge.Print(warning);
        }

        foreach (var image in result.Images)
        {
            Console.Out.WriteLine($"kiln: {image.Name}:{image.Version} -> {image.Digest} ({image.LayersWritten} of {image.Layers} layers written)");
        }

        Console.Out.WriteLine($"kiln: {result.Images.Length} image(s) in {Path.GetDirectoryName(result.ReleasePath)}");
        WriteInputs(request, result.Inputs);
        return Edge.Ok;
    }
}
