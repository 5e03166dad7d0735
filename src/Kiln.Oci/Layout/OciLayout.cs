using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text.Json;
using Kiln.Oci.IO;

namespace Kiln.Oci;

/// <summary>
/// An OCI image layout directory (https://github.com/opencontainers/image-spec/blob/v1.1.1/image-layout.md):
/// <c>oci-layout</c>, <c>index.json</c> and <c>blobs/&lt;alg&gt;/&lt;hex&gt;</c>.
/// </summary>
/// <remarks>
/// Crash safety: every blob is written to a temp file, flushed to disk and renamed into place, and index.json is
/// replaced the same way, last; a crash leaves the old index and at worst an unreferenced blob or a stray temp
/// file. Temps live in <c>&lt;layout&gt;/.kiln-tmp/</c> (same file system, so the rename is atomic; outside
/// <c>blobs/</c>, so validators never see a half-written blob). Two processes writing the same blob both succeed:
/// the content is the same, so whichever rename lands last wins harmlessly. Every index.json write
/// (<see cref="WriteIndex"/>, <see cref="Tag"/>'s read-modify-write) holds an exclusive lock on
/// <c>.kiln-tmp/index.lock</c>, so two writers never interleave. That makes each write atomic, not a whole build:
/// Kiln's engine serialises complete builds of one output directory with its own lock around them.
/// </remarks>
public sealed class OciLayout
{
    public const string LayoutFileName = "oci-layout";
    public const string IndexFileName = "index.json";
    public const string TempDirectoryName = ".kiln-tmp";
    private static readonly byte[] LayoutFileContent = """{"imageLayoutVersion":"1.0.0"}"""u8.ToArray();

    private OciLayout(string root) => Root = root;

    /// <summary>The layout's directory (full path).</summary>
    public string Root { get; }

    internal string TempDirectory => Path.Combine(Root, TempDirectoryName);

    /// <summary>Opens the layout at <paramref name="path"/>, creating the directory, <c>oci-layout</c>, an empty
    /// <c>index.json</c> and <c>blobs/sha256</c> when missing.</summary>
    public static OciLayout OpenOrCreate(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var layout = new OciLayout(Path.GetFullPath(path));
        Directory.CreateDirectory(Path.Combine(layout.Root, "blobs", Digest.Sha256Algorithm));
        Directory.CreateDirectory(layout.TempDirectory);
        string layoutFile = Path.Combine(layout.Root, LayoutFileName);
        if (File.Exists(layoutFile))
        {
            layout.CheckLayoutFile();
        }
        else
        {
            layout.WriteFileAtomically(layoutFile, LayoutFileContent);
        }

        if (!File.Exists(Path.Combine(layout.Root, IndexFileName)))
        {
            layout.WriteIndex(ImageIndex.Empty);
        }

        return layout;
    }

    /// <summary>Opens an existing layout.</summary>
    /// <exception cref="OciFormatException">The directory has no valid <c>oci-layout</c> file.</exception>
    public static OciLayout Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var layout = new OciLayout(Path.GetFullPath(path));
        layout.CheckLayoutFile();
        return layout;
    }

    private void CheckLayoutFile()
    {
        string file = Path.Combine(Root, LayoutFileName);
        if (!File.Exists(file))
        {
            throw new OciFormatException($"'{Root}' is not an OCI image layout: it has no {LayoutFileName} file.");
        }

        using var document = JsonRead.Parse(File.ReadAllBytes(file), file);
        string? version = JsonRead.String(document.RootElement, "imageLayoutVersion", file);
        if (version is null || !version.StartsWith("1.", StringComparison.Ordinal))
        {
            throw new OciFormatException($"{file}: unsupported imageLayoutVersion '{version}' (expected 1.x).");
        }
    }

    public string GetBlobPath(Digest digest)
    {
        if (digest.Algorithm is null)
        {
            throw new ArgumentException("default(Digest) names no blob.", nameof(digest));
        }

        return Path.Combine(Root, "blobs", digest.Algorithm, digest.Encoded);
    }

    public bool Contains(Digest digest) => File.Exists(GetBlobPath(digest));

    /// <summary>The blob file's stamp (see <see cref="BlobStamp"/>), or null when the blob is missing.</summary>
    public BlobStamp? StampOf(Digest digest) => BlobStamp.Of(GetBlobPath(digest));

    /// <summary>Hashes the blob again: true when it exists, has <paramref name="size"/> bytes (when given) and
    /// its content matches its digest.</summary>
    public bool VerifyBlob(Digest digest, long? size = null)
    {
        try
        {
            using var stream = new FileStream(GetBlobPath(digest), FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            if (size is { } expected && stream.Length != expected)
            {
                return false;
            }

            return digest.Algorithm == Digest.Sha256Algorithm
                && Convert.ToHexStringLower(SHA256.HashData(stream)) == digest.Encoded;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Opens a blob for reading (not verified; use <see cref="ReadBlob"/> for small blobs).</summary>
    /// <exception cref="OciFormatException">The blob is missing.</exception>
    public Stream OpenBlob(Digest digest)
    {
        try
        {
            return new FileStream(GetBlobPath(digest), FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new OciFormatException($"Blob {digest} is missing from the layout '{Root}'.", e);
        }
    }

    /// <summary>Reads a whole blob and verifies its digest.</summary>
    /// <exception cref="OciFormatException">The blob is missing or its content does not match its digest.</exception>
    public byte[] ReadBlob(Digest digest)
    {
        byte[] content;
        try
        {
            content = File.ReadAllBytes(GetBlobPath(digest));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new OciFormatException($"Blob {digest} is missing from the layout '{Root}'.", e);
        }

        if (!digest.Matches(content))
        {
            throw new OciFormatException($"Blob {digest} in the layout '{Root}' is corrupt: its content has a different digest.");
        }

        return content;
    }

    public Descriptor WriteBlob(ReadOnlySpan<byte> content, string mediaType)
    {
        ArgumentNullException.ThrowIfNull(mediaType);
        var digest = Digest.Sha256(content);
        if (!HoldsExactly(digest, content))
        {
            using var writer = BeginBlob();
            writer.Stream.Write(content);
            writer.Complete();
        }

        return new Descriptor(mediaType, digest, content.Length);
    }

    /// <summary>Small blobs (configs, manifests) are compared byte for byte before being reused: a corrupt copy
    /// left by anything else is replaced, never trusted.</summary>
    private bool HoldsExactly(Digest digest, ReadOnlySpan<byte> content)
    {
        string path = GetBlobPath(digest);
        try
        {
            var info = new FileInfo(path);
            return info.Exists && info.Length == content.Length && content.SequenceEqual(File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
    }

    public Descriptor WriteBlob(Stream content, string mediaType)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(mediaType);
        using var writer = BeginBlob();
        content.CopyTo(writer.Stream, 128 * 1024);
        long size = writer.Length;
        return new Descriptor(mediaType, writer.Complete(), size);
    }

    /// <summary>Starts writing a blob whose digest is known only at the end.</summary>
    public BlobWriter BeginBlob() => new(this);

    /// <summary>The layout's index.json; an empty index if there is none.</summary>
    public ImageIndex ReadIndex()
    {
        string file = Path.Combine(Root, IndexFileName);
        if (!File.Exists(file))
        {
            return ImageIndex.Empty;
        }

        try
        {
            return ImageIndex.Parse(File.ReadAllBytes(file));
        }
        catch (OciFormatException e)
        {
            throw new OciFormatException($"{file}: {e.Message}", e);
        }
    }

    /// <summary>Replaces index.json atomically (temp file, flush to disk, rename), holding the index lock.</summary>
    public void WriteIndex(ImageIndex index)
    {
        ArgumentNullException.ThrowIfNull(index);
        using (LockIndex())
        {
            WriteIndexLocked(index);
        }
    }

    private void WriteIndexLocked(ImageIndex index) => WriteFileAtomically(Path.Combine(Root, IndexFileName), index.ToJson());

    /// <summary>Points <paramref name="refName"/> at <paramref name="manifest"/> in index.json: an entry with the
    /// same <c>org.opencontainers.image.ref.name</c> is replaced; entries stay sorted by ref name (ordinal),
    /// entries without one first in their existing order.</summary>
    public void Tag(string refName, Descriptor manifest)
    {
        ArgumentException.ThrowIfNullOrEmpty(refName);
        ArgumentNullException.ThrowIfNull(manifest);
        var tagged = manifest.WithAnnotation(AnnotationKeys.RefName, refName);
        using (LockIndex())
        {
            var index = ReadIndex();
            var manifests = index.Manifests
                .Where(m => m.RefName != refName)
                .Append(tagged)
                .OrderBy(m => m.RefName is null ? 0 : 1)
                .ThenBy(m => m.RefName ?? "", StringComparer.Ordinal)
                .ToImmutableArray();
            WriteIndexLocked(index with { Manifests = manifests });
        }
    }

    /// <summary>
    /// The index entries that are images: every entry but the untagged artifacts (an <c>artifactType</c> and no ref
    /// name) that OCI 1.1 layouts list beside the images they refer to, such as Kiln's attestations.
    /// </summary>
    public ImmutableArray<Descriptor> ReadImages() => [.. ReadIndex().Manifests.Where(m => m.ArtifactType is null || m.RefName is not null)];

    /// <summary>The index entry tagged <paramref name="refName"/>; with null, the only entry of the index.</summary>
    /// <exception cref="OciFormatException">refName is null and the index has no entry or several.</exception>
    public Descriptor? FindManifest(string? refName)
    {
        var manifests = ReadImages();
        if (refName is not null)
        {
            return manifests.FirstOrDefault(m => m.RefName == refName);
        }

        return manifests.Length switch
        {
            1 => manifests[0],
            0 => throw new OciFormatException($"The layout '{Root}' has no image."),
            _ => throw new OciFormatException(
                $"The layout '{Root}' has {manifests.Length} images; name one of: {string.Join(", ", manifests.Select(m => m.RefName ?? m.Digest.ToString()))}."),
        };
    }

    public ImageManifest ReadManifest(Digest digest) => ParseBlob(digest, ImageManifest.Parse);

    public ImageIndex ReadImageIndex(Digest digest) => ParseBlob(digest, ImageIndex.Parse);

    public ImageConfig ReadConfig(Digest digest) => ParseBlob(digest, ImageConfig.Parse);

    /// <summary>Follows <paramref name="descriptor"/> to an image manifest: itself if it is one, otherwise the
    /// entry of the index matching <paramref name="platform"/> (default linux/amd64, see
    /// <see cref="PlatformSelection"/>), recursively.</summary>
    public (Descriptor Descriptor, ImageManifest Manifest) ResolveManifest(Descriptor descriptor, Platform? platform = null)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        platform ??= PlatformSelection.LinuxAmd64;
        for (int depth = 0; depth < 8; depth++)
        {
            if (!MediaTypes.IsIndex(descriptor.MediaType))
            {
                return (descriptor, ReadManifest(descriptor.Digest));
            }

            var index = ReadImageIndex(descriptor.Digest);
            descriptor = PlatformSelection.Select(index, platform)
                ?? throw new OciFormatException($"Index {descriptor.Digest} in '{Root}' has no image for {platform}; it has: {PlatformSelection.Available(index)}.");
        }

        throw new OciFormatException($"Indexes nested too deeply under {descriptor.Digest} in '{Root}'.");
    }

    /// <summary>Deletes every blob not reachable from index.json (or from <paramref name="additionalRoots"/>, such as
    /// artifacts that refer to an image without being listed) and stale temp files. Not safe to run while another
    /// process is writing an image into this layout.</summary>
    public void CollectGarbage(IEnumerable<Descriptor>? additionalRoots = null)
    {
        var reachable = new HashSet<Digest>();
        var pending = new Stack<Descriptor>(ReadIndex().Manifests.Concat(additionalRoots ?? []));
        while (pending.TryPop(out var d))
        {
            if (!reachable.Add(d.Digest) || !Contains(d.Digest))
            {
                continue;
            }

            if (MediaTypes.IsIndex(d.MediaType))
            {
                var index = ReadImageIndex(d.Digest);
                foreach (var m in index.Manifests)
                {
                    pending.Push(m);
                }

                if (index.Subject is not null)
                {
                    pending.Push(index.Subject);
                }
            }
            else if (MediaTypes.IsManifest(d.MediaType))
            {
                var manifest = ReadManifest(d.Digest);
                pending.Push(manifest.Config);
                foreach (var l in manifest.Layers)
                {
                    pending.Push(l);
                }

                if (manifest.Subject is not null)
                {
                    pending.Push(manifest.Subject);
                }
            }
        }

        foreach (string algorithmDirectory in Directory.EnumerateDirectories(Path.Combine(Root, "blobs")))
        {
            string algorithm = Path.GetFileName(algorithmDirectory);
            foreach (string file in Directory.EnumerateFiles(algorithmDirectory))
            {
                if (Digest.TryParse($"{algorithm}:{Path.GetFileName(file)}", out var digest) && !reachable.Contains(digest))
                {
                    File.Delete(file);
                }
            }
        }

        if (Directory.Exists(TempDirectory))
        {
            foreach (string file in Directory.EnumerateFiles(TempDirectory, "blob-*"))
            {
                if (File.GetLastWriteTimeUtc(file) < DateTime.UtcNow.AddHours(-1))
                {
                    File.Delete(file);
                }
            }
        }
    }

    /// <summary>
    /// The referrers of <paramref name="subject"/> held in this layout, whether index.json lists them or not: every
    /// small manifest blob whose <c>subject</c> is that digest, as the registry referrers API would list them
    /// (descriptor with artifactType and annotations), ordered by digest.
    /// </summary>
    public IReadOnlyList<(Descriptor Descriptor, ImageManifest Manifest)> FindReferrers(Digest subject)
    {
        const long MaxManifestBytes = 4 * 1024 * 1024;
        var result = new List<(Descriptor, ImageManifest)>();
        var directory = Path.Combine(Root, "blobs", subject.Algorithm);
        if (!Directory.Exists(directory))
        {
            return result;
        }

        var needle = System.Text.Encoding.UTF8.GetBytes(subject.ToString());
        foreach (string file in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(file);
            if (info.Length > MaxManifestBytes || !Digest.TryParse($"{subject.Algorithm}:{info.Name}", out var digest))
            {
                continue;
            }

            byte[] content = File.ReadAllBytes(file);
            if (content.AsSpan().IndexOf(needle) < 0 || content.AsSpan().IndexOf("\"subject\""u8) < 0)
            {
                continue;
            }

            ImageManifest manifest;
            try
            {
                manifest = ImageManifest.Parse(content);
            }
            catch (OciFormatException)
            {
                continue; // an index or another document that merely mentions the digest
            }

            if (manifest.Subject?.Digest == subject)
            {
                result.Add((new Descriptor(manifest.MediaType, digest, content.Length) { ArtifactType = manifest.ArtifactType ?? manifest.Config.MediaType, Annotations = manifest.Annotations }, manifest));
            }
        }

        return result;
    }

    private T ParseBlob<T>(Digest digest, ParseFunc<T> parse)
    {
        byte[] content = ReadBlob(digest);
        try
        {
            return parse(content);
        }
        catch (OciFormatException e)
        {
            throw new OciFormatException($"Blob {digest} in '{Root}': {e.Message}", e);
        }
    }

    private delegate T ParseFunc<out T>(ReadOnlySpan<byte> json);

    internal string NewTempPath(string prefix)
    {
        Directory.CreateDirectory(TempDirectory);
        return Path.Combine(TempDirectory, $"{prefix}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))}");
    }

    private void WriteFileAtomically(string path, ReadOnlySpan<byte> content) => AtomicFile.Write(path, content, NewTempPath("file"));

    private FileStream LockIndex()
    {
        string lockPath = Path.Combine(TempDirectory, "index.lock");
        Directory.CreateDirectory(TempDirectory);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20);
            }
        }
    }
}

/// <summary>
/// Writes one blob into an <see cref="OciLayout"/>: bytes go to a temp file while they are hashed;
/// <see cref="Complete"/> flushes the file to disk and renames it to <c>blobs/sha256/&lt;hex&gt;</c>, unless a
/// sound copy is already there (a corrupt one is replaced). Disposing without completing deletes the temp file.
/// </summary>
public sealed class BlobWriter : IDisposable
{
    private readonly OciLayout _layout;
    private readonly string _tempPath;
    private readonly FileStream _file;
    private readonly HashingStream _hashing;
    private bool _done;

    internal BlobWriter(OciLayout layout)
    {
        _layout = layout;
        _tempPath = layout.NewTempPath("blob");
        _file = new FileStream(_tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024);
        _hashing = new HashingStream(_file, write: true);
    }

    /// <summary>Where to write the content (write-only, not seekable).</summary>
    public Stream Stream => _hashing;

    /// <summary>Bytes written so far.</summary>
    public long Length => _hashing.Length;

    /// <summary>Moves the blob into place and returns its digest.</summary>
    public Digest Complete()
    {
        ObjectDisposedException.ThrowIf(_done, this);
        _done = true;
        var digest = _hashing.GetDigest();
        try
        {
            string target = _layout.GetBlobPath(digest);
            // A blob already there is kept only when it hashes to its digest: one corrupted on disk is healed by
            // the bytes just written. If another writer got there first with the same content, replacing is harmless.
            if (_layout.VerifyBlob(digest, _hashing.Length))
            {
                _file.Dispose();
            }
            else
            {
                AtomicFile.Commit(_file, target);
            }
        }
        finally
        {
            _hashing.Dispose();
            File.Delete(_tempPath);
        }

        return digest;
    }

    public void Dispose()
    {
        if (_done)
        {
            return;
        }

        _done = true;
        _hashing.Dispose();
        _file.Dispose();
        File.Delete(_tempPath);
    }
}
