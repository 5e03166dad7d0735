using System.CommandLine;
using System.Collections.Concurrent;
using Kiln.Engine;
using Kiln.Engine.Registry;
using Kiln.Engine.Requests;
using Kiln.Oci.Registry;
using Spectre.Console;

namespace Kiln.Cli;

/// <summary><c>kiln push [DIR] --registry HOST[:PORT]</c>: pushes every image of a build (release.json + layout) by digest, then its tags.</summary>
internal static class PushCommand
{
    public static Command Create()
    {
        var directory = new Argument<string>("directory") { Description = "The build's kiln directory (holding release.json and oci/).", DefaultValueFactory = _ => KilnDefaults.OutputDirectory() };
        var registry = new Option<string>("--registry", "-r") { Required = true, Description = "The registry, host[:port]." };
        var prefix = new Option<string?>("--repository-prefix") { Description = "A repository path prefix: images go to REGISTRY/PREFIX/NAME." };
        var insecure = new Option<string[]>("--insecure-registry") { Description = "A registry that may be reached over plain HTTP (loopback always may)." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress bars." };
        var allowTagOverwrite = new Option<bool>("--allow-tag-overwrite") { Description = "Move a version tag that already names another digest (a deliberate repair; reported)." };
        var tags = new Option<string[]>("--tag", "-t") { Description = "A moving tag (for example the commit) pushed after each image's version tag; never shaped like a version." };
        var command = new Command("push", "Push every image of a build to a registry: blobs it lacks, then each manifest by digest, then its tag.")
        {
            directory, registry, prefix, insecure, quiet, allowTagOverwrite, tags,
        };
        command.SetAction(result => Edge.Run(() =>
        {
            var request = new PushRequest
            {
                OutputDirectory = Path.GetFullPath(result.GetValue(directory)!),
                Registry = result.GetValue(registry)!,
                RepositoryPrefix = result.GetValue(prefix),
                Settings = RegistryEdge.Settings(result.GetValue(insecure)),
                AllowTagOverwrite = result.GetValue(allowTagOverwrite),
                ExtraTags = [.. result.GetValue(tags) ?? []],
            };
            var push = result.GetValue(quiet) || Console.IsOutputRedirected
                ? KilnEngine.Push(request, TransferLog.Lines(line => Console.Out.WriteLine($"kiln: {line}")))
                : WithProgress(request);
            foreach (var warning in push.Warnings)
            {
                Edge.Print(warning);
            }

            foreach (var image in push.Images)
            {
                Console.Out.WriteLine($"kiln: pushed {image.Reference}");
            }

            Console.Out.WriteLine($"kiln: {push.Images.Length} image(s); {push.BlobsUploaded} blob(s) uploaded ({Kiln.Engine.Formatting.ByteSize.Format(push.BytesUploaded)}), {push.BlobsSkipped} already present, {push.BlobsMounted} mounted");
            return Edge.Ok;
        }));
        return command;
    }

    /// <summary>One bar per blob being uploaded; blobs the registry has finish at once.</summary>
    private static PushResult WithProgress(PushRequest request)
    {
        PushResult? result = null;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn())
            .Start(context =>
            {
                var tasks = new ConcurrentDictionary<(string, string), ProgressTask>();
                ProgressTask Task(TransferEvent e) => tasks.GetOrAdd((e.Repository, e.Digest.ToString()), _ =>
                    context.AddTask($"{e.Repository} {e.Digest.ToString()[7..19]}", maxValue: Math.Max(1, e.Size)));
                result = KilnEngine.Push(request, e =>
                {
                    var task = Task(e);
                    switch (e.Kind)
                    {
                        case TransferKind.Uploading:
                            task.Value = e.Done;
                            break;
                        case TransferKind.Exists or TransferKind.Mounted:
                            task.Description = $"{task.Description} ({(e.Kind == TransferKind.Exists ? "exists" : "mounted")})";
                            task.Value = task.MaxValue;
                            task.StopTask();
                            break;
                        case TransferKind.Uploaded:
                            task.Value = task.MaxValue;
                            task.StopTask();
                            break;
                    }
                });
            });
        return result!;
    }
}
