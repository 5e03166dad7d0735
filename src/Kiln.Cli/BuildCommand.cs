using System.Collections.Immutable;
using System.CommandLine;
using System.Diagnostics;
using Kiln.Engine;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Manifests;

namespace Kiln.Cli;

/// <summary>
/// <c>kiln build [project]</c>: builds a spec project's images. It runs <c>dotnet build</c>, whose Kiln targets start
/// the engine: the build sequence exists once, in MSBuild, and the CLI shows the result. MSBuild's own output is
/// progress and diagnostics, so it goes to standard error; standard output carries only the images built.
/// </summary>
internal static class BuildCommand
{
    /// <summary>A build's release.json, as named in its kiln directory.</summary>
    private static readonly string ReleaseFile = Path.GetFileName(KilnDefaults.ReleasePath());

    public static Command Create()
    {
        var project = new Argument<string>("project") { Description = "The spec project (file or directory). Defaults to the current directory.", DefaultValueFactory = _ => "." };
        var configuration = new Option<string>("--configuration", "-c") { Description = "The build configuration.", DefaultValueFactory = _ => "Debug" };
        var output = new Option<string?>("--output", "-o") { Description = "The artifact directory (default: bin/<Configuration>/kiln/ beside the project)." };
        var epoch = new Option<string?>("--source-date-epoch") { Description = "Timestamp for every file and config in the images (default: $SOURCE_DATE_EPOCH, else 0)." };
        var inputRoots = new Option<string[]>("--input-root") { Description = "A directory besides the project's that layer sources may come from (KilnInputRoots; repeat for several).", AllowMultipleArgumentsPerToken = false };
        var evaluationTimeout = new Option<string?>("--evaluation-timeout") { Description = "Seconds spec evaluation may take (KilnEvaluationTimeout, default 60)." };
        var json = new Option<bool>("--json") { Description = "Print the images built as JSON." };
        var command = new Command("build", "Build the images of a spec project (runs dotnet build).") { project, configuration, output, epoch, inputRoots, evaluationTimeout, json };
        command.SetAction(result => Edge.Run(() =>
        {
            var path = ProjectPath(result.GetValue(project)!);
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

            if (Dotnet(arguments) != 0)
            {
                return ExitCodes.Failed; // MSBuild printed the coded errors (KILNnnnn, or its own MSBnnnn) on standard error
            }

            var directory = Directory.Exists(path) ? path : Path.GetDirectoryName(path)!;
            var release = result.GetValue(output) is { } explicitOutput
                ? Path.Combine(Path.GetFullPath(explicitOutput), ReleaseFile)
                : Path.Combine(directory, KilnDefaults.ReleasePath(config));
            if (File.Exists(release))
            {
                PrintRelease(release, result.GetValue(json));
            }
            else if (result.GetValue(json))
            {
                CliJson.Write(new BuildOutput(null, null, []));
            }

            return Edge.Ok;
        }));
        return command;
    }

    /// <summary>
    /// The project to build, checked before MSBuild sees it: MSBuild's MSB1009/MSB1003 name no fix that fits kiln.
    /// A directory must hold exactly one project or solution file, as <c>dotnet build</c> requires.
    /// </summary>
    internal static string ProjectPath(string given)
    {
        var path = Path.GetFullPath(given);
        if (File.Exists(path))
        {
            return path;
        }

        if (!Directory.Exists(path))
        {
            throw new KilnException(DiagnosticCodes.ProjectNotFound, $"The project '{given}' does not exist ({path}). Pass the spec project's directory or its .csproj, or run kiln in the project's directory.");
        }

        var candidates = Directory.EnumerateFiles(path).Where(f => f.EndsWith("proj", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".sln", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".slnx", StringComparison.OrdinalIgnoreCase)).ToList();
        return candidates.Count switch
        {
            1 => path,
            0 => throw new KilnException(DiagnosticCodes.ProjectNotFound, $"The directory '{path}' holds no project or solution file. Pass the spec project's directory or its .csproj."),
            _ => throw new KilnException(DiagnosticCodes.ProjectNotFound, $"The directory '{path}' holds several project or solution files ({string.Join(", ", candidates.Select(Path.GetFileName).Order(StringComparer.Ordinal))}). Pass the one to build."),
        };
    }

    /// <summary>
    /// The spec project's directory for the verbs that read its kiln.lock.json (outdated, lock --security-only): a
    /// directory that does not exist is KILN5031, not "nothing locked, nothing outdated".
    /// </summary>
    internal static string ProjectDirectory(string given)
    {
        var path = Path.GetFullPath(given);
        var directory = File.Exists(path) && path.EndsWith("proj", StringComparison.OrdinalIgnoreCase) ? Path.GetDirectoryName(path)! : path;
        return Directory.Exists(directory)
            ? directory
            : throw new KilnException(DiagnosticCodes.ProjectNotFound, $"The project directory '{given}' does not exist ({path}). Pass the spec project's directory (the one holding kiln.lock.json).");
    }

    /// <summary>Runs dotnet with its standard output copied to our standard error (it is progress, not the result).</summary>
    internal static int Dotnet(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        while (process.StandardOutput.ReadLine() is { } line)
        {
            Console.Error.WriteLine(line);
        }

        process.WaitForExit();
        return process.ExitCode;
    }

    private static void PrintRelease(string path, bool json)
    {
        var release = ReleaseDocument.Load(path);
        var directory = Path.GetDirectoryName(path)!;
        if (json)
        {
            CliJson.Write(new BuildOutput(
                path,
                Path.Combine(directory, release.Layout),
                [.. release.Images.Select(i => new BuildOutputImage(i.Name, i.Version, i.Reference, i.Digest.ToString(), Path.Combine(directory, i.Manifest)))]));
            return;
        }

        CliOutput.Table(["image", "digest", "manifest"], release.Images.Select(i => new[] { i.Reference, i.Digest.ToString(), i.Manifest }));
        Edge.Status($"layout {Path.Combine(directory, release.Layout)} (kiln inspect, skopeo inspect oci:<layout>:<name:version>)");
    }

    /// <summary>
    /// The --json shape of <c>kiln build</c>: the release.json written, the layout, and every image; the paths are null
    /// (and the list empty) when the project has no server spec, so no release was written.
    /// </summary>
    internal sealed record BuildOutput(string? Release, string? Layout, ImmutableArray<BuildOutputImage> Images);

    /// <summary>One image built; <paramref name="Manifest"/> is the Kiln manifest's full path.</summary>
    internal sealed record BuildOutputImage(string Name, string Version, string Reference, string Digest, string Manifest);
}
