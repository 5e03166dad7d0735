using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.CommandLine;
using Kiln.Engine;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Manifests;
using Kiln.Engine.Registry;
using Kiln.Engine.Requests;
using Kiln.Oci.Registry;
using Spectre.Console;

namespace Kiln.Cli;

/// <summary>
/// <c>kiln push [DIR] --registry HOST[:PORT]</c>: pushes every image of a build (release.json + layout) by digest,
/// then its tags. The default is the Release build's output: Debug images are not what ships.
/// </summary>
internal static class PushCommand
{
    /// <summary>A build's release.json, as named in its kiln directory.</summary>
    private static readonly string ReleaseFile = Path.GetFileName(KilnDefaults.ReleasePath());

    /// <summary>The configuration whose output is pushed when no directory is given.</summary>
    private const string DefaultConfiguration = "Release";

    public static Command Create()
    {
        var directory = new Argument<string?>("directory") { Description = $"The build's kiln directory (holding release.json and oci/); default: {KilnDefaults.OutputDirectory(DefaultConfiguration)}.", Arity = ArgumentArity.ZeroOrOne };
        var registry = new Option<string>("--registry", "-r") { Required = true, Description = "The registry, host[:port]." };
        var prefix = new Option<string?>("--repository-prefix") { Description = "A repository path prefix: images go to REGISTRY/PREFIX/NAME." };
        var insecure = new Option<string[]>("--insecure-registry") { Description = "A registry that may be reached over plain HTTP (loopback always may)." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress bars (one line per blob on standard error instead)." };
        var json = new Option<bool>("--json") { Description = "Print what was pushed as JSON." };
        var allowTagOverwrite = new Option<bool>("--allow-tag-overwrite") { Description = "Move a version tag that already names another digest (a deliberate repair; reported)." };
        var tags = new Option<string[]>("--tag", "-t") { Description = "A moving tag (for example the commit) pushed after each image's version tag; never shaped like a version." };
        var command = new Command("push", "Push every image of a build to a registry: blobs it lacks, then each manifest by digest, then its tag.")
        {
            directory, registry, prefix, insecure, quiet, json, allowTagOverwrite, tags,
        };
        command.SetAction(result => Edge.Run(() =>
        {
            var given = result.GetValue(directory);
            var output = Path.GetFullPath(given ?? KilnDefaults.OutputDirectory(DefaultConfiguration));
            if (!File.Exists(Path.Combine(output, ReleaseFile)))
            {
                throw new KilnException(DiagnosticCodes.PushOutputMissing, given is null
                    ? $"There is no Release build to push: '{Path.Combine(output, ReleaseFile)}' does not exist. Build the images with 'kiln build -c Release' (or 'dotnet build -c Release'), or pass the build's kiln directory (for example bin/Debug/kiln) to push another configuration."
                    : $"'{output}' is not a build's kiln directory: it has no {ReleaseFile}. Pass the directory a build wrote (bin/<Configuration>/kiln), or build first with 'kiln build -c Release'.");
            }

            var request = new PushRequest
            {
                OutputDirectory = output,
                Registry = result.GetValue(registry)!,
                RepositoryPrefix = result.GetValue(prefix),
                Settings = RegistryEdge.Settings(result.GetValue(insecure)),
                AllowTagOverwrite = result.GetValue(allowTagOverwrite),
                ExtraTags = [.. result.GetValue(tags) ?? []],
            };
            var push = result.GetValue(quiet) || !CliOutput.ProgressOnTerminal
                ? KilnEngine.Push(request, TransferLog.Lines(Edge.Status))
                : WithProgress(request);
            foreach (var warning in push.Warnings)
            {
                Edge.Print(warning);
            }

            if (result.GetValue(json))
            {
                CliJson.Write(new PushOutput(
                    request.Registry,
                    [.. push.Images.Select(i => new PushOutputImage(i.Name, i.Version, i.Repository, i.Reference, i.Digest.ToString(), i.ExtraTags.IsDefault ? [] : [.. i.ExtraTags]))],
                    push.BlobsUploaded,
                    push.BytesUploaded,
                    push.BlobsSkipped,
                    push.BlobsMounted));
                return Edge.Ok;
            }

            foreach (var image in push.Images)
            {
                CliOutput.Line($"{image.Reference}\t{image.Digest}");
            }

            Edge.Status($"{push.Images.Length} image(s); {push.BlobsUploaded} blob(s) uploaded ({Kiln.Engine.Formatting.ByteSize.Format(push.BytesUploaded)}), {push.BlobsSkipped} already present, {push.BlobsMounted} mounted");
            return Edge.Ok;
        }));
        return command;
    }

    /// <summary>One bar per blob being uploaded, on standard error; blobs the registry has finish at once.</summary>
    private static PushResult WithProgress(PushRequest request)
    {
        PushResult? result = null;
        CliOutput.ErrorConsole.Progress()
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

    /// <summary>The --json shape of <c>kiln push</c>; <paramref name="BytesUploaded"/> counts only what went over the wire.</summary>
    internal sealed record PushOutput(string Registry, ImmutableArray<PushOutputImage> Images, int BlobsUploaded, long BytesUploaded, int BlobsSkipped, int BlobsMounted);

    /// <summary>One pushed image: its tag reference and the manifest digest it names.</summary>
    internal sealed record PushOutputImage(string Name, string Version, string Repository, string Reference, string Digest, IReadOnlyList<string> ExtraTags);
}
