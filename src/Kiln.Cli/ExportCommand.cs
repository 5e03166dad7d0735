using System.CommandLine;
using Kiln.Engine;
using Kiln.Engine.Registry;

namespace Kiln.Cli;

/// <summary><c>kiln export LAYOUT NAME:VERSION --format oci-archive|docker-archive -o FILE</c>: an image as an archive other tools load.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var layout = new Argument<string>("layout") { Description = "An OCI image layout, e.g. bin/Debug/kiln/oci." };
        var reference = new Argument<string>("image") { Description = "The image's name:version in the layout." };
        var format = new Option<string>("--format", "-f") { DefaultValueFactory = _ => "oci-archive", Description = "oci-archive (skopeo, podman load) or docker-archive (docker load)." };
        format.AcceptOnlyFromAmong("oci-archive", "docker-archive");
        var output = new Option<string>("--output", "-o") { Required = true, Description = "The archive file to write." };
        var command = new Command("export", "Write one image of a layout as an OCI archive or a docker-archive.") { layout, reference, format, output };
        command.SetAction(result => Edge.Run(() =>
        {
            var kind = result.GetValue(format) == "docker-archive" ? ArchiveFormat.DockerArchive : ArchiveFormat.OciArchive;
            KilnEngine.Export(Path.GetFullPath(result.GetValue(layout)!), result.GetValue(reference)!, kind, result.GetValue(output)!);
            Console.Out.WriteLine($"kiln: wrote {result.GetValue(output)} ({result.GetValue(format)})");
            return Edge.Ok;
        }));
        return command;
    }
}
