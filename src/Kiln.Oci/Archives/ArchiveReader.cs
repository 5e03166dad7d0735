using System.Collections.Immutable;
using System.Formats.Tar;
using System.Text.Json;

namespace Kiln.Oci;

/// <summary>
/// Imports an image from an archive into an <see cref="OciLayout"/>: an OCI archive (a tar of an image layout,
/// as <c>skopeo copy oci-archive:</c> or <c>docker save</c> ≥ 25 write it) or a docker-archive (<c>docker save</c>:
/// <c>manifest.json</c> with Config, RepoTags and Layers).
/// </summary>
public static class ArchiveReader
{
    /// <summary>
    /// Copies the blobs of the image selected by <paramref name="reference"/> into <paramref name="target"/>
    /// (verifying every digest) and returns its manifest descriptor. The image is not tagged in the target: the
    /// caller does that (until then <see cref="OciLayout.CollectGarbage"/> would remove it).
    /// </summary>
    /// <param name="archivePath">The .tar file.</param>
    /// <param name="target">The layout to import into.</param>
    /// <param name="reference">OCI archive: the ref.name annotation (or the tag part of it); docker-archive: an
    /// entry of RepoTags. Null selects the only image of the archive.</param>
    /// <param name="manifest">The imported image's manifest descriptor (an index for a multi-platform OCI
    /// archive; see <see cref="OciLayout.ResolveManifest"/>).</param>
    /// <exception cref="OciFormatException">Not an OCI or docker archive, the reference is not in it, a blob is
    /// missing or does not match its digest.</exception>
    public static void ImportInto(string archivePath, OciLayout target, string? reference, out Descriptor manifest) =>
        ImportInto(archivePath, target, reference, PlatformSelection.LinuxAmd64, out manifest);

    /// <summary>
    /// <see cref="ImportInto(string, OciLayout, string?, out Descriptor)"/> for one platform: when the image is an
    /// index, the image of <paramref name="platform"/> is the one checked to be whole. An index without that platform
    /// is imported and returned unchecked, so that the caller can name the platforms it does have
    /// (<see cref="PlatformSelection.Available"/>).
    /// </summary>
    public static void ImportInto(string archivePath, OciLayout target, string? reference, Platform platform, out Descriptor manifest)
    {
        ArgumentNullException.ThrowIfNull(archivePath);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(platform);
        try
        {
            var metadata = ReadMetadata(archivePath);
            if (metadata.TryGetValue(OciLayout.IndexFileName, out byte[]? indexJson))
            {
                manifest = ImportOci(archivePath, target, reference, ImageIndex.Parse(indexJson), platform);
            }
            else if (metadata.TryGetValue("manifest.json", out byte[]? dockerManifest))
            {
                manifest = ImportDocker(archivePath, target, reference, dockerManifest);
            }
            else
            {
                throw new OciFormatException($"'{archivePath}' is neither an OCI archive (no index.json) nor a docker-archive (no manifest.json).");
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException or OverflowException or InvalidOperationException or ArgumentException or NotSupportedException)
        {
            // System.Formats.Tar reports some malformed headers with OverflowException (a number too large),
            // InvalidOperationException (a long-name entry larger than it allows), ArgumentOutOfRangeException
            // (a negative size on a seekable stream) and NotSupportedException (GNU sparse entries).
            throw new OciFormatException($"'{archivePath}' is not a valid tar archive: {e.Message}", e);
        }
    }

    private static Dictionary<string, byte[]> ReadMetadata(string archivePath)
    {
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using var file = new TarInputGuard(File.OpenRead(archivePath));
        using var reader = new TarReader(file);
        while (reader.GetNextEntry() is { } entry)
        {
            string name = EntryName(entry);
            if (name is OciLayout.IndexFileName or OciLayout.LayoutFileName or "manifest.json" && entry.DataStream is not null)
            {
                using var memory = new MemoryStream();
                entry.DataStream.CopyTo(memory);
                result[name] = memory.ToArray();
            }
        }

        return result;
    }

    private static Descriptor ImportOci(string archivePath, OciLayout target, string? reference, ImageIndex index, Platform platform)
    {
        Descriptor selected = SelectOci(archivePath, index, reference);
        // Copy every blob of the archive (an archive normally holds one image), then check the image is whole.
        ForEachFile(archivePath, (name, data) =>
        {
            string[] parts = name.Split('/');
            if (parts.Length != 3 || parts[0] != "blobs" || !Digest.TryParse($"{parts[1]}:{parts[2]}", out var digest))
            {
                return;
            }

            if (target.Contains(digest))
            {
                return;
            }

            using var writer = target.BeginBlob();
            data.CopyTo(writer.Stream);
            var actual = writer.Complete();
            if (actual != digest)
            {
                throw new OciFormatException($"'{archivePath}': blob {name} has digest {actual}.");
            }
        });

        if (MediaTypes.IsIndex(selected.MediaType) && PlatformSelection.Select(target.ReadImageIndex(selected.Digest), platform) is null)
        {
            return selected with { Annotations = null };
        }

        var (_, imageManifest) = target.ResolveManifest(selected, platform);
        foreach (var blob in imageManifest.Layers.Prepend(imageManifest.Config))
        {
            if (!target.Contains(blob.Digest))
            {
                throw new OciFormatException($"'{archivePath}': blob {blob.Digest} of the image is missing.");
            }
        }

        return selected with { Annotations = null };
    }

    private static Descriptor SelectOci(string archivePath, ImageIndex index, string? reference)
    {
        if (reference is null)
        {
            return index.Manifests.Length == 1
                ? index.Manifests[0]
                : throw new OciFormatException($"'{archivePath}' holds {index.Manifests.Length} images; name one.");
        }

        return index.Manifests.FirstOrDefault(m => m.RefName == reference)
            ?? index.Manifests.FirstOrDefault(m => m.Annotations?.GetValueOrDefault("io.containerd.image.name") == reference)
            ?? index.Manifests.FirstOrDefault(m => m.RefName is { } r && reference.EndsWith(":" + r, StringComparison.Ordinal))
            ?? throw new OciFormatException(
                $"'{archivePath}' has no image '{reference}'; it has: {string.Join(", ", index.Manifests.Select(m => m.RefName ?? m.Digest.ToString()))}.");
    }

    private static Descriptor ImportDocker(string archivePath, OciLayout target, string? reference, byte[] manifestJson)
    {
        var (configName, layerNames) = SelectDocker(archivePath, manifestJson, reference);
        var wanted = new Dictionary<string, Descriptor?>(StringComparer.Ordinal) { [configName] = null };
        foreach (string layer in layerNames)
        {
            wanted[layer] = null;
        }

        // docker save (legacy layout) may store a repeated layer as a symlink to the first copy.
        var links = new Dictionary<string, string>(StringComparer.Ordinal);
        ForEachEntry(archivePath, entry =>
        {
            string name = EntryName(entry);
            if (!wanted.ContainsKey(name))
            {
                return;
            }

            if (entry.EntryType is TarEntryType.SymbolicLink or TarEntryType.HardLink)
            {
                string linkTarget = entry.EntryType == TarEntryType.SymbolicLink
                    ? Path.GetRelativePath("/", Path.GetFullPath(Path.Combine("/" + Path.GetDirectoryName(name), entry.LinkName))).Replace('\\', '/')
                    : entry.LinkName;
                links[name] = linkTarget;
                return;
            }

            if (entry.DataStream is null)
            {
                return;
            }

            using var writer = target.BeginBlob();
            Span<byte> magic = stackalloc byte[4];
            int read = entry.DataStream.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
            writer.Stream.Write(magic[..read]);
            entry.DataStream.CopyTo(writer.Stream);
            long size = writer.Length;
            var digest = writer.Complete();
            string mediaType = read >= 2 && magic[0] == 0x1F && magic[1] == 0x8B ? MediaTypes.LayerTarGzip
                : read == 4 && magic.SequenceEqual<byte>([0x28, 0xB5, 0x2F, 0xFD]) ? MediaTypes.LayerTarZstd
                : MediaTypes.LayerTar;
            wanted[name] = new Descriptor(mediaType, digest, size);
        });

        Descriptor Resolve(string name)
        {
            for (int i = 0; i < 16 && wanted.GetValueOrDefault(name) is null && links.TryGetValue(name, out var next); i++)
            {
                name = next;
                if (!wanted.ContainsKey(name))
                {
                    // The link points at a file we did not import yet: it is not in the wanted set.
                    throw new OciFormatException($"'{archivePath}': {name} (a link target) is not imported.");
                }
            }

            return wanted.GetValueOrDefault(name) ?? throw new OciFormatException($"'{archivePath}': {name} is missing.");
        }

        var config = Resolve(configName) with { MediaType = MediaTypes.ImageConfig };
        // Parse the config to be sure it is one, and that it agrees with the layers.
        var imageConfig = target.ReadConfig(config.Digest);
        if (imageConfig.DiffIds.Length != layerNames.Length)
        {
            throw new OciFormatException(
                $"'{archivePath}': the config lists {imageConfig.DiffIds.Length} diff_ids but manifest.json {layerNames.Length} layers.");
        }

        var imageManifest = new ImageManifest(config, [.. layerNames.Select(Resolve)]);
        byte[] json = imageManifest.ToJson();
        return target.WriteBlob(json, MediaTypes.ImageManifest);
    }

    private static (string Config, ImmutableArray<string> Layers) SelectDocker(string archivePath, byte[] json, string? reference)
    {
        const string where = "manifest.json";
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new OciFormatException($"'{archivePath}': {where} is not valid JSON ({e.Message}).", e);
        }

        using (document)
        {
            JsonRead.CheckStrings(document, $"'{archivePath}': {where}");
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new OciFormatException($"'{archivePath}': {where} must be a JSON array.");
            }

            var images = document.RootElement.EnumerateArray().ToList();
            JsonElement? chosen = null;
            if (reference is null)
            {
                chosen = images.Count == 1 ? images[0] : throw new OciFormatException($"'{archivePath}' holds {images.Count} images; name one.");
            }
            else
            {
                foreach (var image in images)
                {
                    var tags = JsonRead.StringArray(image, "RepoTags", where);
                    if (tags.Any(t => t == reference || NormalizeDockerReference(t) == NormalizeDockerReference(reference)))
                    {
                        chosen = image;
                        break;
                    }
                }
            }

            if (chosen is not { } c)
            {
                throw new OciFormatException($"'{archivePath}' has no image tagged '{reference}'.");
            }

            return (JsonRead.RequiredString(c, "Config", where), JsonRead.StringArray(c, "Layers", where));
        }
    }

    /// <summary>"busybox:1" and "docker.io/library/busybox:1" name the same image.</summary>
    private static string NormalizeDockerReference(string reference)
    {
        string r = reference;
        if (r.StartsWith("docker.io/", StringComparison.Ordinal))
        {
            r = r["docker.io/".Length..];
        }

        if (r.StartsWith("library/", StringComparison.Ordinal))
        {
            r = r["library/".Length..];
        }

        return r.Contains(':', StringComparison.Ordinal) || r.Contains('@', StringComparison.Ordinal) ? r : r + ":latest";
    }

    private static void ForEachFile(string archivePath, Action<string, Stream> action) =>
        ForEachEntry(archivePath, entry =>
        {
            if (entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile && entry.DataStream is not null)
            {
                action(EntryName(entry), entry.DataStream);
            }
        });

    private static void ForEachEntry(string archivePath, Action<TarEntry> action)
    {
        using var file = new TarInputGuard(File.OpenRead(archivePath));
        using var reader = new TarReader(file);
        while (reader.GetNextEntry() is { } entry)
        {
            action(entry);
        }
    }

    private static string EntryName(TarEntry entry) => LayerReader.NormalizeName(entry.Name)[1..];
}
