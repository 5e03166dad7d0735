using System.Collections.Immutable;
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
        var json = new Option<bool>("--json") { Description = "Print the image (or the list of images) as JSON." };
        var command = new Command("inspect", "Show the images of a layout or archive, or one image's config and layers.") { source, reference, json };
        command.SetAction(result => Edge.Run(() => Inspect(result.GetValue(source)!, result.GetValue(reference), result.GetValue(json))));
        return command;
    }

    private static int Inspect(string source, string? reference, bool json)
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
                    ListImages(layout, json);
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

            ShowImage(layout, manifest, reference ?? manifest.Annotations?.GetValueOrDefault(AnnotationKeys.RefName), json);
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

    private static void ListImages(OciLayout layout, bool json)
    {
        var images = layout.ReadImages().Select(descriptor =>
        {
            var manifest = layout.ReadManifest(descriptor.Digest);
            return new InspectListEntry(
                descriptor.Annotations?.GetValueOrDefault(AnnotationKeys.RefName),
                descriptor.Digest.ToString(),
                manifest.Layers.Length,
                manifest.Layers.Sum(l => l.Size) + manifest.Config.Size);
        }).ToImmutableArray();
        if (json)
        {
            CliJson.Write(new InspectList(images));
            return;
        }

        CliOutput.Table(
            ["image", "digest", "layers", "size"],
            images.Select(i => new[] { i.Image ?? "(untagged)", CliOutput.Digest(i.Digest), CliOutput.Number(i.Layers), CliOutput.IsTerminal ? ByteSize.Format(i.Size) : CliOutput.Number(i.Size) }));
    }

    private static void ShowImage(OciLayout layout, Descriptor descriptor, string? name, bool json)
    {
        var manifest = layout.ReadManifest(descriptor.Digest);
        var config = layout.ReadConfig(manifest.Config.Digest);
        var c = config.Config;
        var history = config.History.Where(h => !h.EmptyLayer).ToList();
        var image = new InspectImage(
            name,
            descriptor.Digest.ToString(),
            manifest.Config.Digest.ToString(),
            $"{config.Os}/{config.Architecture}",
            config.Created,
            c.User,
            c.WorkingDir,
            c.Entrypoint,
            c.Cmd,
            c.Env,
            [.. c.ExposedPorts],
            [.. c.Volumes],
            c.Labels,
            [.. manifest.Layers.Select((l, i) => new InspectLayer(l.Digest.ToString(), l.Size, l.MediaType, i < history.Count ? history[i].CreatedBy : null))],
            manifest.Layers.Sum(l => l.Size));
        if (json)
        {
            CliJson.Write(image);
            return;
        }

        var rows = new (string Key, string? Value)[]
        {
            ("image", name),
            ("digest", image.Digest),
            ("config", image.Config),
            ("platform", image.Platform),
            ("created", image.Created),
            ("user", c.User),
            ("workdir", c.WorkingDir),
            ("entrypoint", Argv(c.Entrypoint)),
            ("cmd", Argv(c.Cmd)),
            ("env", string.Join(Environment.NewLine, c.Env)),
            ("ports", string.Join(", ", c.ExposedPorts)),
            ("volumes", string.Join(", ", c.Volumes)),
            ("labels", string.Join(Environment.NewLine, c.Labels.Select(kv => $"{kv.Key}={kv.Value}"))),
        };
        if (CliOutput.IsTerminal)
        {
            var summary = new Grid().AddColumn().AddColumn();
            foreach (var (key, value) in rows)
            {
                summary.AddRow($"[grey]{key}[/]", Markup.Escape(string.IsNullOrEmpty(value) ? "-" : value));
            }

            AnsiConsole.Write(new Panel(summary).Header("image").Border(BoxBorder.Rounded));
        }
        else
        {
            // One "key<TAB>value" line per value; a list (env, labels) repeats its key on each line.
            foreach (var (key, value) in rows)
            {
                foreach (var line in string.IsNullOrEmpty(value) ? ["-"] : value.Split(Environment.NewLine))
                {
                    CliOutput.Line($"{key}\t{line}");
                }
            }

            CliOutput.Line("");
        }

        CliOutput.Table(
            ["#", "digest", "size", "created by"],
            image.Layers.Select((l, i) => new[]
            {
                CliOutput.Number(i + 1),
                CliOutput.IsTerminal ? l.Digest[7..23] : l.Digest,
                CliOutput.IsTerminal ? ByteSize.Format(l.Size) : CliOutput.Number(l.Size),
                l.CreatedBy ?? "",
            }));
        CliOutput.Line($"total {(CliOutput.IsTerminal ? ByteSize.Format(image.Size) : CliOutput.Number(image.Size) + " bytes")} compressed in {image.Layers.Length} layer(s)");
    }

    private static string Argv(IEnumerable<string> argv) => string.Join(' ', argv.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a));

    /// <summary>The --json shape of <c>kiln inspect</c> on a layout with several images (and no image named).</summary>
    internal sealed record InspectList(ImmutableArray<InspectListEntry> Images);

    /// <summary>One image of a layout; <paramref name="Size"/> in bytes (config and compressed layers).</summary>
    internal sealed record InspectListEntry(string? Image, string Digest, int Layers, long Size);

    /// <summary>The --json shape of <c>kiln inspect</c> for one image; sizes in bytes.</summary>
    internal sealed record InspectImage(
        string? Image,
        string Digest,
        string Config,
        string Platform,
        string? Created,
        string? User,
        string? WorkingDir,
        ImmutableArray<string> Entrypoint,
        ImmutableArray<string> Cmd,
        ImmutableArray<string> Env,
        ImmutableArray<string> Ports,
        ImmutableArray<string> Volumes,
        ImmutableSortedDictionary<string, string> Labels,
        ImmutableArray<InspectLayer> Layers,
        long Size);

    /// <summary>One layer: compressed digest and size, media type, and the history's created_by.</summary>
    internal sealed record InspectLayer(string Digest, long Size, string MediaType, string? CreatedBy);
}
