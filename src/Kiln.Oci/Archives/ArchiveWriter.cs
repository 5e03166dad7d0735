using System.Text.Json;
using Kiln.Oci.IO;

namespace Kiln.Oci;

/// <summary>
/// Writes one image of an <see cref="OciLayout"/> as a deterministic tar: an OCI archive (an image layout,
/// readable by <c>skopeo copy oci-archive:</c>, <c>podman load</c>) or a docker-archive (<c>docker load</c>).
/// Same layout content ⇒ same archive bytes: entries sorted, mtime 0, owner 0:0, GNU tar headers.
/// </summary>
public static class ArchiveWriter
{
    /// <summary>Writes oci-layout, an index.json holding <paramref name="manifest"/> (with its annotations, e.g.
    /// the ref name) and every blob the image needs.</summary>
    public static void WriteOciArchive(OciLayout layout, Descriptor manifest, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(destination);
        var blobs = Closure(layout, manifest);
        var tar = new TarStreamWriter(destination);
        tar.Directory("blobs/");
        foreach (string algorithm in blobs.Select(b => b.Algorithm).Distinct().Order(StringComparer.Ordinal))
        {
            tar.Directory($"blobs/{algorithm}/");
            foreach (var digest in blobs.Where(b => b.Algorithm == algorithm).Order())
            {
                tar.Blob($"blobs/{algorithm}/{digest.Encoded}", layout, digest);
            }
        }

        tar.File(OciLayout.IndexFileName, new ImageIndex { Manifests = [manifest] }.ToJson());
        tar.File(OciLayout.LayoutFileName, """{"imageLayoutVersion":"1.0.0"}"""u8);
        tar.Finish();
    }

    /// <summary>Writes a <c>docker save</c>-style archive: manifest.json (Config, RepoTags, Layers) and the blobs
    /// under blobs/sha256/, as Docker ≥ 25 lays them out. <paramref name="manifest"/> must be an image manifest.</summary>
    public static void WriteDockerArchive(OciLayout layout, Descriptor manifest, IReadOnlyList<string> repoTags, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(repoTags);
        ArgumentNullException.ThrowIfNull(destination);
        var image = layout.ReadManifest(manifest.Digest);
        string BlobName(Digest d) => $"blobs/{d.Algorithm}/{d.Encoded}";
        byte[] manifestJson = CanonicalJson.Serialize(w =>
        {
            w.WriteStartArray();
            w.WriteStartObject();
            w.WriteString("Config", BlobName(image.Config.Digest));
            w.WriteStartArray("RepoTags");
            foreach (string tag in repoTags)
            {
                w.WriteStringValue(tag);
            }

            w.WriteEndArray();
            w.WriteStartArray("Layers");
            foreach (var layer in image.Layers)
            {
                w.WriteStringValue(BlobName(layer.Digest));
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
        });
        var tar = new TarStreamWriter(destination);
        tar.Directory("blobs/");
        tar.Directory("blobs/sha256/");
        foreach (var digest in image.Layers.Select(l => l.Digest).Append(image.Config.Digest).Distinct().Order())
        {
            tar.Blob(BlobName(digest), layout, digest);
        }

        tar.File("manifest.json", manifestJson);
        tar.Finish();
    }

    /// <summary>The manifest (or index) and everything it references, recursively.</summary>
    private static SortedSet<Digest> Closure(OciLayout layout, Descriptor root)
    {
        var result = new SortedSet<Digest>();
        var pending = new Stack<Descriptor>([root]);
        while (pending.TryPop(out var d))
        {
            if (!result.Add(d.Digest))
            {
                continue;
            }

            if (MediaTypes.IsIndex(d.MediaType))
            {
                foreach (var m in layout.ReadImageIndex(d.Digest).Manifests)
                {
                    pending.Push(m);
                }
            }
            else if (MediaTypes.IsManifest(d.MediaType))
            {
                var m = layout.ReadManifest(d.Digest);
                pending.Push(m.Config);
                foreach (var l in m.Layers)
                {
                    pending.Push(l);
                }
            }
            else if (!layout.Contains(d.Digest))
            {
                throw new OciFormatException($"Blob {d.Digest} is missing from the layout '{layout.Root}'.");
            }
        }

        return result;
    }

    private sealed class TarStreamWriter(Stream destination)
    {
        public void Directory(string name) =>
            TarFormat.WriteHeader(destination.Write, name, TarFormat.Directory, 0x1ED, 0, 0, 0, 0, null);

        public void File(string name, ReadOnlySpan<byte> content)
        {
            TarFormat.WriteHeader(destination.Write, name, TarFormat.RegularFile, 0x1A4, 0, 0, content.Length, 0, null);
            destination.Write(content);
            destination.Write(new byte[TarFormat.PaddingFor(content.Length)]);
        }

        /// <summary>
        /// Archives a blob of the layout, hashing it as it streams: a blob whose content is not its digest throws
        /// <see cref="ContentMismatchException"/> before its last byte is written, so no archive carries it.
        /// </summary>
        public void Blob(string name, OciLayout layout, Digest digest)
        {
            using var file = layout.OpenBlob(digest);
            long size = file.Length;
            TarFormat.WriteHeader(destination.Write, name, TarFormat.RegularFile, 0x1A4, 0, 0, size, 0, null);
            using var blob = new VerifyingStream(file, new Descriptor("application/octet-stream", digest, size), $"blob {digest} in the layout '{layout.Root}'", leaveOpen: true);
            blob.CopyTo(destination, 128 * 1024);
            destination.Write(new byte[TarFormat.PaddingFor(size)]);
        }

        public void Finish() => destination.Write(new byte[2 * TarFormat.BlockSize]);
    }
}
