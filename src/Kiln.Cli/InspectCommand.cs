using System.CommandLine;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Formatting;
using Kiln.Oci;
using Spectre.Console;

namespace Kiln.Cli;

/// <summary><c>kiln inspect LAYOUT-OR-ARCHIVE [name:version]</c>: a readable summary of an image: config and layers.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var source = new Argument<string>("source") { Description = "An OCI image layout directory, or an OCI / docker archive (.tar)." };
        var reference = new Argument<string?>("reference") { Description = "The image (name:version); optional when there is one.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("inspect", "Show the images of a layout or archive, or one image's config and layers.") { source, reference };
        command.SetAction(result => Edge.Run(() => Inspect(result.GetValue(source)!, result.GetValue(reference))));
        return command;
    }

    private static int Inspect(string source, string? reference)
    {
        string? temp = null;
        try
        {
            OciLayout layout;
            Descriptor? manifest;
            if (Directory.Exists(source))
            {
                layout = Open(source);
                if (reference is null && layout.ReadImages().Length > 1)
                {
                    ListImages(layout);
                    return Edge.Ok;
                }

                manifest = layout.FindManifest(reference);
            }
            else if (File.Exists(source))
            {
                temp = Directory.CreateTempSubdirectory("kiln-inspect-").FullName;
                layout = OciLayout.OpenOrCreate(temp);
                ArchiveReader.ImportInto(source, layout, reference, out var imported);
                manifest = imported;
            }
            else
            {
                throw new KilnException(DiagnosticCodes.BaseNotFound, $"'{source}' is neither an OCI layout directory nor an archive file.");
            }

            if (manifest is null)
            {
                throw new KilnException(DiagnosticCodes.BaseReferenceNotFound, $"'{source}' has no image '{reference}'. Run 'kiln inspect {source}' to list its images.");
            }

            ShowImage(layout, manifest, reference ?? manifest.Annotations?.GetValueOrDefault(AnnotationKeys.RefName));
            return Edge.Ok;
        }
        finally
        {
            if (temp is not null)
            {
                Directory.Delete(temp, recursive: true);
            }
        }
    }

    private static OciLayout Open(string path)
    {
        try
        {
            return OciLayout.Open(path);
        }
        catch (OciFormatException e)
        {
            throw new KilnException(DiagnosticCodes.BaseNotFound, $"'{path}' is not an OCI image layout: {e.Message}");
        }
    }

    private static void ListImages(OciLayout layout)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumns("image", "digest", "layers", "size");
        foreach (var descriptor in layout.ReadImages())
        {
            var manifest = layout.ReadManifest(descriptor.Digest);
            table.AddRow(
                Markup.Escape(descriptor.Annotations?.GetValueOrDefault(AnnotationKeys.RefName) ?? "(untagged)"),
                $"sha256:{descriptor.Digest.Encoded[..16]}…",
                manifest.Layers.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ByteSize.Format(manifest.Layers.Sum(l => l.Size) + manifest.Config.Size));
        }

        AnsiConsole.Write(table);
    }

    private static void ShowImage(OciLayout layout, Descriptor descriptor, string? name)
    {
        var manifest = layout.ReadManifest(descriptor.Digest);
        var config = layout.ReadConfig(manifest.Config.Digest);
        var c = config.Config;
        var summary = new Grid().AddColumn().AddColumn();
        void Row(string key, string? value) => summary.AddRow($"[grey]{key}[/]", Markup.Escape(string.IsNullOrEmpty(value) ? "-" : value));
        Row("image", name);
        Row("digest", descriptor.Digest.ToString());
        Row("config", manifest.Config.Digest.ToString());
        Row("platform", $"{config.Os}/{config.Architecture}");
        Row("created", config.Created);
        Row("user", c.User);
        Row("workdir", c.WorkingDir);
        Row("entrypoint", Argv(c.Entrypoint));
        Row("cmd", Argv(c.Cmd));
        Row("env", string.Join(Environment.NewLine, c.Env));
        Row("ports", string.Join(", ", c.ExposedPorts));
        Row("volumes", string.Join(", ", c.Volumes));
        Row("labels", string.Join(Environment.NewLine, c.Labels.Select(kv => $"{kv.Key}={kv.Value}")));
        AnsiConsole.Write(new Panel(summary).Header("image").Border(BoxBorder.Rounded));

        var layers = new Table().Border(TableBorder.Rounded).AddColumns("#", "digest", "size", "created by");
        var history = config.History.Where(h => !h.EmptyLayer).ToList();
        for (var i = 0; i < manifest.Layers.Length; i++)
        {
            layers.AddRow(
                (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
                manifest.Layers[i].Digest.Encoded[..16],
                ByteSize.Format(manifest.Layers[i].Size),
                Markup.Escape(i < history.Count ? history[i].CreatedBy ?? "" : ""));
        }

        AnsiConsole.Write(layers);
        AnsiConsole.MarkupLine($"total {ByteSize.Format(manifest.Layers.Sum(l => l.Size))} compressed in {manifest.Layers.Length} layer(s)");
    }

    private static string Argv(IEnumerable<string> argv) => string.Join(' ', argv.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a));
}
