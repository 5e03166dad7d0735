using System.CommandLine;
using System.Diagnostics;
using Kiln.Engine;
using Kiln.Engine.Manifests;
using Spectre.Console;

namespace Kiln.Cli;

/// <summary>
/// <c>kiln build [project]</c>: builds a spec project's images. It runs <c>dotnet build</c>, whose Kiln targets start
/// the engine: the build sequence exists once, in MSBuild, and the CLI shows the result.
/// </summary>
internal static class BuildCommand
{
    public static Command Create()
    {
        var project = new Argument<string>("project") { Description = "The spec project (file or directory). Defaults to the current directory.", DefaultValueFactory = _ => "." };
        var configuration = new Option<string>("--configuration", "-c") { Description = "The build configuration.", DefaultValueFactory = _ => "Debug" };
        var output = new Option<string?>("--output", "-o") { Description = "The artifact directory (default: bin/<Configuration>/kiln/ beside the project)." };
        var epoch = new Option<string?>("--source-date-epoch") { Description = "Timestamp for every file and config in the images (default: $SOURCE_DATE_EPOCH, else 0)." };
        var inputRoots = new Option<string[]>("--input-root") { Description = "A directory besides the project's that layer sources may come from (KilnInputRoots; repeat for several).", AllowMultipleArgumentsPerToken = false };
        var evaluationTimeout = new Option<string?>("--evaluation-timeout") { Description = "Seconds spec evaluation may take (KilnEvaluationTimeout, default 60)." };
        var command = new Command("build", "Build the images of a spec project (runs dotnet build).") { project, configuration, output, epoch, inputRoots, evaluationTimeout };
        command.SetAction(result => Edge.Run(() =>
        {
            var path = Path.GetFullPath(result.GetValue(project)!);
            var config = result.GetValue(configuration)!;
            var arguments = new List<string> { "build", path, "-c", config, "-nologo", "-p:KilnEnabled=true" };
            if (result.GetValue(output) is { } o)
            {
                arguments.Add($"-p:KilnOutputPath={Path.GetFullPath(o).TrimEnd('/', '\\')}/");
            }

            if (result.GetValue(epoch) is { } e)
            {
                arguments.Add($"-p:KilnSourceDateEpoch={e}");
            }

            if (result.GetValue(inputRoots) is { Length: > 0 } roots)
            {
                // %3B: MSBuild's escape for ';', which would otherwise end the -p: value.
                arguments.Add($"-p:KilnInputRoots={string.Join("%3B", roots.Select(Path.GetFullPath))}");
            }

            if (result.GetValue(evaluationTimeout) is { Length: > 0 } seconds)
            {
                arguments.Add($"-p:KilnEvaluationTimeout={seconds}");
            }

            var exit = Dotnet(arguments);
            if (exit != 0)
            {
                return exit;
            }

            var directory = Directory.Exists(path) ? path : Path.GetDirectoryName(path)!;
            var release = result.GetValue(output) is { } explicitOutput
                ? Path.Combine(Path.GetFullPath(explicitOutput), "release.json")
                : Path.Combine(directory, KilnDefaults.ReleasePath(config));
            if (File.Exists(release))
            {
                PrintRelease(release);
            }

            return Edge.Ok;
        }));
        return command;
    }

    private static int Dotnet(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet") { UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        process.WaitForExit();
        return process.ExitCode;
    }

    private static void PrintRelease(string path)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumns("image", "digest", "manifest");
        foreach (var image in ReleaseDocument.Load(path).Images)
        {
            table.AddRow(Markup.Escape(image.Reference), Markup.Escape(image.Digest.ToString()), Markup.Escape(image.Manifest));
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"Layout: [bold]{Markup.Escape(Path.Combine(Path.GetDirectoryName(path)!, "oci"))}[/]  (kiln inspect, skopeo inspect oci:<layout>:<name:version>)");
    }
}
