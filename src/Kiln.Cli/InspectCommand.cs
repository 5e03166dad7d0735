using System.Collections.Immutable;
using System.CommandLine;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Formatting;
using Kiln.Engine.Run;
using Kiln.Oci;
using Spectre.Console;

namespace Kiln.Cli;

/// <summary>
/// <c>kiln inspect LAYOUT-OR-ARCHIVE [name:version] [--platform os/arch]</c>: a readable summary of an image: config and
/// layers; for a multi-platform image (an index), its platforms, and with --platform one platform's image.
/// </summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var source = new Argument<string>("source") { Description = "An OCI image layout directory, or an OCI / docker archive (.tar)." };
        var reference = new Argument<string?>("reference") { Description = "The image (name:version); optional when there is one.", Arity = ArgumentArity.ZeroOrOne };
        var json = new Option<bool>("--json") { Description = "Print the image (or the list of images) as JSON." };
        var platform = new Option<string?>("--platform") { Description = "For a multi-platform image: show this platform's image (os/arch, for example linux/arm64) instead of the list of platforms." };
        var command = new Command("inspect", "Show the images of a layout or archive, or one image's config and layers (or platforms).") { source, reference, json, platform };
        command.SetAction(result => Edge.Run(() => Inspect(result.GetValue(source)!, result.GetValue(reference), result.GetValue(json), result.GetValue(platform))));
        return command;
    }

    private static int Inspect(string source, string? reference, bool json, string? platformText)
    {
        // Checked first, so that a mistyped platform fails before any archive is read.
        var platform = platformText is null ? null : ImagePlatforms.Parse(platformText);
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

            var name = reference ?? manifest.Annotations?.GetValueOrDefault(AnnotationKeys.RefName);
            if (MediaTypes.IsIndex(manifest.MediaType) && platform is null)
            {
                ShowIndex(layout, manifest, name, json);
                return Edge.Ok;
            }

            // The host is never the choice here: without --platform a plain manifest is shown as it is.
            var image = ImagePlatforms.Select(layout, manifest, platform, platform ?? new Platform("amd64", "linux"), name ?? source);
            ShowImage(layout, image.Descriptor, name, image.Index?.Digest.ToString(), json);
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
            var platforms = MediaTypes.IsIndex(descriptor.MediaType)
                ? ImagePlatforms.List(layout, descriptor)
                : [ImagePlatforms.Select(layout, descriptor, null, new Platform("amd64", "linux"), descriptor.RefName ?? descriptor.Digest.ToString())];
            // Platforms share blobs (the same layer in each): an image's layers and size count each blob once.
            var layers = platforms.SelectMany(p => p.Manifest.Layers).DistinctBy(l => l.Digest).ToList();
            var configs = platforms.Select(p => p.Manifest.Config).DistinctBy(c => c.Digest);
            return new InspectListEntry(
                descriptor.Annotations?.GetValueOrDefault(AnnotationKeys.RefName),
                descriptor.Digest.ToString(),
                layers.Count,
                layers.Sum(l => l.Size) + configs.Sum(c => c.Size),
                [.. platforms.Select(p => p.Platform.ToString())]);
        }).ToImmutableArray();
        if (json)
        {
            CliJson.Write(new InspectList(images));
            return;
        }

        CliOutput.Table(
            ["image", "digest", "layers", "size", "platforms"],
            images.Select(i => new[] { i.Image ?? "(untagged)", CliOutput.Digest(i.Digest), CliOutput.Number(i.Layers), CliOutput.IsTerminal ? ByteSize.Format(i.Size) : CliOutput.Number(i.Size), string.Join(", ", i.Platforms) }));
    }

    private static void ShowIndex(OciLayout layout, Descriptor descriptor, string? name, bool json)
    {
        var index = new InspectIndex(
            name,
            descriptor.Digest.ToString(),
            descriptor.MediaType,
            [.. ImagePlatforms.List(layout, descriptor).Select(p => new InspectPlatform(
                p.Platform.ToString(),
                p.Descriptor.Digest.ToString(),
                p.Manifest.Layers.Sum(l => l.Size) + p.Manifest.Config.Size,
                p.Manifest.Layers.Length))]);
        if (json)
        {
            CliJson.Write(index);
            return;
        }

        if (CliOutput.IsTerminal)
        {
            var summary = new Grid().AddColumn().AddColumn();
            summary.AddRow("[grey]image[/]", Markup.Escape(name ?? "-"));
            summary.AddRow("[grey]digest[/]", Markup.Escape(index.Digest));
            summary.AddRow("[grey]platforms[/]", Markup.Escape(CliOutput.Number(index.Platforms.Length)));
            AnsiConsole.Write(new Panel(summary).Header("multi-platform image").Border(BoxBorder.Rounded));
        }
        else
        {
            CliOutput.Line($"image\t{name ?? "-"}");
            CliOutput.Line($"digest\t{index.Digest}");
            CliOutput.Line($"mediaType\t{index.MediaType}");
            CliOutput.Line("");
        }

        CliOutput.Table(
            ["platform", "digest", "size", "layers"],
            index.Platforms.Select(p => new[] { p.Platform, CliOutput.Digest(p.Digest), CliOutput.IsTerminal ? ByteSize.Format(p.Size) : CliOutput.Number(p.Size), CliOutput.Number(p.Layers) }));
        CliOutput.Line($"{index.Platforms.Length} platform(s)");
    }

    private static void ShowImage(OciLayout layout, Descriptor descriptor, string? name, string? index, bool json)
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
            manifest.Layers.Sum(l => l.Size),
            index);
        if (json)
        {
            CliJson.Write(image);
            return;
        }

        (string Key, string? Value)[] rows =
        [
            ("image", name),
            .. (index is null ? [] : new[] { ("index", (string?)index) }),
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
        ];
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

    /// <summary>
    /// One image of a layout; <paramref name="Size"/> in bytes (config and compressed layers; for a multi-platform image
    /// every platform's, each shared blob once), <paramref name="Platforms"/> os/arch.
    /// </summary>
    internal sealed record InspectListEntry(string? Image, string Digest, int Layers, long Size, ImmutableArray<string> Platforms);

    /// <summary>The --json shape of <c>kiln inspect</c> for a multi-platform image (an index) without --platform.</summary>
    internal sealed record InspectIndex(string? Image, string Digest, string MediaType, ImmutableArray<InspectPlatform> Platforms);

    /// <summary>One platform of an index: os/arch, its image manifest's digest, its size in bytes (config and compressed layers) and layer count.</summary>
    internal sealed record InspectPlatform(string Platform, string Digest, long Size, int Layers);

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
        long Size,
        string? Index);

    /// <summary>One layer: compressed digest and size, media type, and the history's created_by.</summary>
    internal sealed record InspectLayer(string Digest, long Size, string MediaType, string? CreatedBy);
}
