using System.CommandLine;
using Kiln.Engine;
using Kiln.Engine.Registry;

namespace Kiln.Cli;

/// <summary><c>kiln export LAYOUT NAME:VERSION --format oci-archive|docker-archive -o FILE</c>: an image as an archive other tools load.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var layout = new Argument<string>("layout") { Description = "An OCI image layout, e.g. bin/Release/kiln/oci." };
        var reference = new Argument<string>("image") { Description = "The image's name:version in the layout." };
        var format = new Option<string>("--format", "-f") { DefaultValueFactory = _ => "oci-archive", Description = "oci-archive (skopeo, podman load) or docker-archive (docker load)." };
        format.AcceptOnlyFromAmong("oci-archive", "docker-archive");
        var output = new Option<string>("--output", "-o") { Required = true, Description = "The archive file to write." };
        var json = new Option<bool>("--json") { Description = "Print the archive written as JSON." };
        var platform = new Option<string?>("--platform")
        {
            Description = "Of a multi-platform image, export only this platform's image, os/architecture[/variant] (a docker-archive needs one; an oci-archive holds the whole index without it).",
        };
        var command = new Command("export", "Write one image of a layout as an OCI archive or a docker-archive.") { layout, reference, format, output, platform, json };
        command.SetAction(result => Edge.Run(() =>
        {
            var kind = result.GetValue(format) == "docker-archive" ? ArchiveFormat.DockerArchive : ArchiveFormat.OciArchive;
            var file = Path.GetFullPath(result.GetValue(output)!);
            var only = string.IsNullOrWhiteSpace(result.GetValue(platform)) ? null : PlatformEdge.Parse(result.GetValue(platform));
            KilnEngine.Export(Path.GetFullPath(result.GetValue(layout)!), result.GetValue(reference)!, kind, file, only);
            if (result.GetValue(json))
            {
                CliJson.Write(new ExportOutput(result.GetValue(reference)!, result.GetValue(format)!, file, new FileInfo(file).Length));
            }
            else
            {
                CliOutput.Line(file);
            }

            return Edge.Ok;
        }));
        return command;
    }

    /// <summary>The --json shape of <c>kiln export</c>: the image, the archive format, the file and its size in bytes.</summary>
    internal sealed record ExportOutput(string Image, string Format, string File, long Size);
}
