using Kiln.Engine.Diagnostics;
using Kiln.Oci;
using Kiln.Oci.Registry;

namespace Kiln.Engine.Registry;

/// <summary>
/// Pulls a base image pinned by digest into the shared, content-addressed cache (an OCI layout). Every blob is verified
/// before it is moved into the cache, and manifests are written only after everything they name is in place, so a
/// refused download leaves nothing behind. A cached image needs no network.
/// </summary>
internal sealed class BasePuller(OciLayout cache, RegistrySettings settings, Action<TransferEvent>? observer = null)
{
    /// <summary>The cache layout's place under the shared cache directory.</summary>
    public const string CacheLayoutDirectory = "oci";

    /// <summary>
    /// The <c>kiln pull</c> entry: parse, require a digest, pull <paramref name="platform"/>'s image (default linux/amd64)
    /// into CACHE/oci. With <paramref name="offline"/> the registry is never asked: the image must already be complete in
    /// the cache. With <paramref name="verificationKey"/>, then require Kiln provenance of the platform's image manifest
    /// signed with it (KILN2177), which asks the registry.
    /// </summary>
    public static Descriptor PullInto(string text, string cacheDirectory, RegistrySettings settings, Action<TransferEvent>? observer, bool offline = false, string? verificationKey = null, Platform? platform = null)
    {
        if (offline && verificationKey is not null)
        {
            throw new KilnException(DiagnosticCodes.InvalidRequest, $"kiln pull '{text}': --offline cannot be combined with --key: checking the provenance asks the registry for the image's referrers. Drop one of them.");
        }

        platform ??= PlatformSelection.LinuxAmd64;
        var manifest = PullUnverified(text, cacheDirectory, settings, observer, offline, platform);
        if (verificationKey is not null)
        {
            _ = ImageReference.TryParse(text, out var reference, out _);
            Attestation.BaseVerification.Require(verificationKey, reference!, manifest, settings, $"kiln pull '{text}'", observer);
        }

        return manifest;
    }

    private static Descriptor PullUnverified(string text, string cacheDirectory, RegistrySettings settings, Action<TransferEvent>? observer, bool offline, Platform platform)
    {
        if (!ImageReference.TryParse(text, out var reference, out var error))
        {
            throw new KilnException(DiagnosticCodes.InvalidImageReference, $"'{text}' is not a valid image reference: {error}");
        }

        if (reference!.Digest is null)
        {
            throw new KilnException(DiagnosticCodes.ImageReferenceNotPinned, $"'{text}' is not pinned by digest; the cache is content-addressed. Add @sha256:….");
        }

        try
        {
            var cache = OciLayout.OpenOrCreate(Path.Combine(cacheDirectory, CacheLayoutDirectory));
            var puller = new BasePuller(cache, settings, observer);
            var isCached = puller.IsCached(reference.Digest.Value, platform, out var cached);
            if (offline && !isCached)
            {
                throw new KilnException(DiagnosticCodes.PullNotCachedOffline, $"'{text}' is not in the cache '{cacheDirectory}' for {platform}, and --offline forbids asking the registry. Pull it once without --offline, or point --cache-dir at a cache that holds it.");
            }

            if (!offline && isCached)
            {
                // A build may use the cache offline, but `kiln pull` says that the registry serves the image: a cached
                // digest proves nothing about a repository that does not exist (or no longer holds it), so ask.
                using var client = settings.Client(reference.Registry, observer);
                if (!client.ManifestExistsAsync(reference.Repository, reference.Digest.Value.ToString()).GetAwaiter().GetResult())
                {
                    throw new KilnException(DiagnosticCodes.PullNotServed, $"{reference.Registry}/{reference.Repository} does not serve {reference.Digest} (the registry answered 404), although the image is in the cache '{cacheDirectory}'. Check the registry and repository in '{text}': an image that a build pulls from there must exist there.");
                }
            }

            var manifest = isCached ? cached : puller.Pull(reference, platform);

            // An index entry says its platform; a plain manifest says it only in its config, which must be the one asked for.
            var config = cache.ReadConfig(cache.ReadManifest(manifest.Digest).Config.Digest);
            return PlatformSelection.ConfigMatches(config, platform)
                ? manifest
                : throw Planning.Bases.LayoutImage.PlatformMismatch($"kiln pull '{text}'", manifest.Digest, config, platform);
        }
        catch (RegistryException e)
        {
            throw RegistryErrors.ToKiln(e, $"Pulling '{reference}'");
        }
        catch (PlatformMissingException e)
        {
            throw Planning.Bases.LayoutImage.PlatformMissing($"kiln pull '{text}'", e.Platform, e.Available);
        }
    }

    /// <summary>Whether the image (and, for an index, the chosen platform's image) is complete in the cache.</summary>
    public bool IsCached(Digest root, Platform platform, out Descriptor manifest)
    {
        manifest = null!;
        if (!cache.Contains(root))
        {
            return false;
        }

        try
        {
            var descriptor = new Descriptor(MediaTypeOf(cache.ReadBlob(root)), root, new FileInfo(cache.GetBlobPath(root)).Length);
            var (resolved, image) = cache.ResolveManifest(descriptor, platform);
            if (!cache.Contains(image.Config.Digest) || image.Layers.Any(l => !cache.Contains(l.Digest)))
            {
                return false;
            }

            manifest = resolved;
            return true;
        }
        catch (OciFormatException)
        {
            return false;
        }
    }

    /// <summary>Pulls <paramref name="reference"/> (which must carry a digest) and returns the image manifest chosen.</summary>
    /// <exception cref="PlatformMissingException">The reference names an index without an image for <paramref name="platform"/>.</exception>
    public Descriptor Pull(ImageReference reference, Platform platform, CancellationToken cancellationToken = default)
    {
        var root = reference.Digest ?? throw new ArgumentException("The reference must be pinned by digest.", nameof(reference));
        if (IsCached(root, platform, out var cached))
        {
            return cached;
        }

        using var client = settings.Client(reference.Registry, observer);
        var pending = new List<byte[]>();
        var (descriptor, content) = client.GetManifestAsync(reference.Repository, root.ToString(), cancellationToken).GetAwaiter().GetResult();
        pending.Add(content);
        for (var depth = 0; MediaTypes.IsIndex(descriptor.MediaType); depth++)
        {
            if (depth > 4)
            {
                throw new RegistryException(RegistryFailure.Protocol, reference.Registry, $"'{reference}' nests indexes too deeply.");
            }

            var index = ImageIndex.Parse(content);
            var entry = PlatformSelection.Select(index, platform) ?? throw new PlatformMissingException(platform, PlatformSelection.Available(index));
            (descriptor, content) = client.GetManifestAsync(reference.Repository, entry.Digest.ToString(), cancellationToken).GetAwaiter().GetResult();
            if (descriptor.Size != entry.Size)
            {
                throw new RegistryException(RegistryFailure.ContentMismatch, reference.Registry, $"'{reference}': manifest {entry.Digest} is {descriptor.Size} bytes, but the index says {entry.Size}. The content was refused.");
            }

            pending.Add(content);
        }

        var image = ImageManifest.Parse(content);
        var missing = image.Layers.Prepend(image.Config).DistinctBy(b => b.Digest).Where(b => !cache.Contains(b.Digest)).ToList();
        // A few blobs at once, as skopeo does: one stream rarely fills a fast link. Each goes to its own temp file and
        // is moved into place only after its digest and size were verified.
        Parallel.ForEachAsync(missing, new ParallelOptions { MaxDegreeOfParallelism = 3, CancellationToken = cancellationToken }, async (blob, ct) =>
        {
            using var writer = cache.BeginBlob();
            await client.DownloadBlobAsync(reference.Repository, blob, writer.Stream, ct).ConfigureAwait(false);
            writer.Complete();
        }).GetAwaiter().GetResult();

        // Manifests last, the chosen image first and the root last: a root in the cache means a complete image.
        for (var i = pending.Count - 1; i >= 0; i--)
        {
            cache.WriteBlob(pending[i], MediaTypeOf(pending[i]));
        }

        cache.Tag(reference.ToString(), new Descriptor(MediaTypeOf(pending[0]), root, pending[0].Length));
        return descriptor;
    }

    private static string MediaTypeOf(byte[] content)
    {
        using var document = System.Text.Json.JsonDocument.Parse(content);
        if (document.RootElement.TryGetProperty("mediaType", out var m) && m.GetString() is { } mediaType)
        {
            return mediaType;
        }

        // OCI allows the field to be absent: an index has "manifests", an image "config".
        return document.RootElement.TryGetProperty("manifests", out _) ? MediaTypes.ImageIndex : MediaTypes.ImageManifest;
    }
}

/// <summary>An index names no image for the platform asked for; the caller words it (KILN2160) with its own context.</summary>
internal sealed class PlatformMissingException(Platform platform, string available)
    : Exception($"The index has no image for {platform}; it has: {available}.")
{
    public Platform Platform { get; } = platform;

    /// <summary>The platforms the index has, for the message (<see cref="PlatformSelection.Available"/>).</summary>
    public string Available { get; } = available;
}
