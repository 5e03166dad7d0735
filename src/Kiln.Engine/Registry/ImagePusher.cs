using System.Collections.Concurrent;
using System.Collections.Immutable;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.IO;
using Kiln.Engine.Manifests;
using Kiln.Engine.Requests;
using Kiln.Oci;
using Kiln.Oci.IO;
using Kiln.Oci.Registry;

namespace Kiln.Engine.Registry;

/// <summary>One image pushed: where it went, by digest and by tag.</summary>
/// <param name="Reference">REGISTRY/REPOSITORY:TAG@DIGEST.</param>
/// <param name="ExtraTags">The moving tags (KilnExtraTags) pushed after the version tag.</param>
public sealed record PushedImage(string Name, string Version, string Repository, string Reference, Digest Digest, ImmutableArray<string> ExtraTags = default);

/// <summary>What a push did: the images, how many blobs and bytes actually went over the wire, and coded warnings.</summary>
public sealed record PushResult(ImmutableArray<PushedImage> Images, int BlobsUploaded, int BlobsSkipped, int BlobsMounted, long BytesUploaded, ImmutableArray<KilnDiagnostic> Warnings = default);

/// <summary>
/// Pushes every image of a build: its blobs (skipping those the registry has, mounting those another repository of this
/// push already holds), then the manifest by digest, then the tag. The tag comes last so that a tag never names a
/// manifest whose blobs are missing; an interrupted push is simply run again.
/// A version tag is immutable at the registry too: one that already names another digest is refused before anything
/// is uploaded, and checked again just before it is written (a registry has no compare-and-swap for tags, so the
/// window between that check and the write is as small as the protocol allows).
/// </summary>
internal sealed class ImagePusher(PushRequest request, Action<TransferEvent>? observer, HttpMessageHandler? handler = null)
{
    public PushResult Push(CancellationToken cancellationToken = default)
    {
        var output = Path.GetFullPath(request.OutputDirectory);
        var releasePath = Path.Combine(output, Release.FileName);
        var release = ReadRelease(releasePath);
        var images = release.Images;
        OciLayout layout;
        try
        {
            layout = OciLayout.Open(Path.Combine(output, KilnEngine.LayoutDirectory));
        }
        catch (OciFormatException e)
        {
            throw new KilnException(DiagnosticCodes.PushNothingBuilt, $"The build's image layout under '{output}' could not be opened: {e.Message} Build the images first (dotnet build).");
        }

        var registry = request.Registry.Trim().TrimEnd('/');
        if (registry.Contains("://", StringComparison.Ordinal))
        {
            registry = registry[(registry.IndexOf("://", StringComparison.Ordinal) + 3)..];
        }

        var prefix = request.RepositoryPrefix?.Trim('/') is { Length: > 0 } p ? p + "/" : "";
        var targets = new List<(ReleaseImage Image, ImageReference Target)>();
        foreach (var image in images)
        {
            var text = $"{registry}/{prefix}{image.Name}:{image.Version}";
            if (!ImageReference.TryParse(text, out var target, out var error) || target!.Registry != registry)
            {
                throw new KilnException(DiagnosticCodes.PushTargetInvalid, $"'{text}' (KilnRegistry '{request.Registry}', KilnRepositoryPrefix '{request.RepositoryPrefix}') is not a valid image reference{(error is null ? "" : ": " + error)}. Set KilnRegistry to host[:port] and KilnRepositoryPrefix to lower-case path segments.");
            }

            targets.Add((image, target));
        }

        var extraTags = CheckExtraTags(request.ExtraTags, images);

        var counter = new Counter(observer);
        using var client = request.Settings.Client(registry, counter.Observe, handler);
        var holders = new ConcurrentDictionary<Digest, string>();
        var pushed = ImmutableArray.CreateBuilder<PushedImage>();
        var warnings = ImmutableArray.CreateBuilder<KilnDiagnostic>();
        try
        {
            // Refused before any blob goes over the wire: a push that would move a version leaves the registry as it was.
            foreach (var (image, target) in targets)
            {
                CheckVersionTag(client, image, target, registry, warnings: null, cancellationToken);
            }

            // Every blob of every image first, then manifests and tags: a blob refused on the way (a corrupt file in
            // the layout) leaves no image of this push tagged, not only the one it belongs to.
            var manifests = new List<(ReleaseImage Image, ImageReference Target, byte[] Bytes)>();
            var attached = AttachedArtifacts(layout, targets.Select(t => t.Image.Digest));
            foreach (var (image, target) in targets)
            {
                var manifestBytes = ReadManifest(layout, image);
                var manifest = ImageManifest.Parse(manifestBytes);
                var artifacts = attached.GetValueOrDefault(image.Digest) ?? [];
                var blobs = manifest.Layers.Prepend(manifest.Config)
                    .Concat(artifacts.SelectMany(a => a.Manifest.Layers.Prepend(a.Manifest.Config)))
                    .DistinctBy(b => b.Digest).ToList();
                Parallel.ForEachAsync(blobs, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, request.Parallelism), CancellationToken = cancellationToken }, async (blob, ct) =>
                {
                    if (!layout.Contains(blob.Digest))
                    {
                        throw new KilnException(DiagnosticCodes.PushNothingBuilt, $"Blob {blob.Digest} of {image.Name}:{image.Version} is missing from the layout '{layout.Root}'. Build again.");
                    }

                    if (await client.BlobExistsAsync(target.Repository, blob.Digest, ct).ConfigureAwait(false))
                    {
                        counter.Observe(new TransferEvent(TransferKind.Exists, target.Repository, blob.Digest, blob.Size, blob.Size));
                    }
                    else if (holders.TryGetValue(blob.Digest, out var from) && from != target.Repository
                        && await client.MountBlobAsync(target.Repository, blob.Digest, from, ct).ConfigureAwait(false))
                    {
                        // Counted by the Mounted event the client reports.
                    }
                    else
                    {
                        // The client hashes what it streams and refuses a blob that is not its digest.
                        await client.UploadBlobAsync(target.Repository, blob, () => layout.OpenBlob(blob.Digest), ct).ConfigureAwait(false);
                    }

                    holders.TryAdd(blob.Digest, target.Repository);
                }).GetAwaiter().GetResult();
                manifests.Add((image, target, manifestBytes));
            }

            foreach (var (image, target, manifestBytes) in manifests)
            {
                client.PutManifestAsync(target.Repository, image.Digest.ToString(), image.MediaType, manifestBytes, cancellationToken).GetAwaiter().GetResult();
                CheckVersionTag(client, image, target, registry, warnings, cancellationToken);
                client.PutManifestAsync(target.Repository, image.Version, image.MediaType, manifestBytes, cancellationToken).GetAwaiter().GetResult();
                foreach (var tag in extraTags)
                {
                    client.PutManifestAsync(target.Repository, tag, image.MediaType, manifestBytes, cancellationToken).GetAwaiter().GetResult();
                }

                // Attestations and the SBOM after the image they refer to: the referrers API, or the sha256-<hex> tag.
                foreach (var artifact in attached.GetValueOrDefault(image.Digest) ?? [])
                {
                    client.PutReferrerAsync(target.Repository, image.Digest, artifact.Descriptor, layout.ReadBlob(artifact.Descriptor.Digest), cancellationToken).GetAwaiter().GetResult();
                }

                pushed.Add(new PushedImage(image.Name, image.Version, $"{registry}/{target.Repository}", target.With(image.Version, image.Digest).ToString(), image.Digest, extraTags));
            }
        }
        catch (RegistryException e)
        {
            throw RegistryErrors.ToKiln(e, $"Pushing to '{registry}'");
        }
        catch (ContentMismatchException e)
        {
            throw Corrupt(layout, e.Message, "the push was refused before any manifest or tag was written");
        }

        RecordInRelease(releasePath, release, pushed);
        return new PushResult(pushed.ToImmutable(), counter.Uploaded, counter.Skipped, counter.Mounted, client.BytesUploaded, warnings.ToImmutable());
    }

    /// <summary>
    /// Refuses (or, with <see cref="PushRequest.AllowTagOverwrite"/>, reports in <paramref name="warnings"/>) a version
    /// tag the registry already holds for another digest. With no list to report in, an allowed move is only checked.
    /// </summary>
    private void CheckVersionTag(RegistryClient client, ReleaseImage image, ImageReference target, string registry, ImmutableArray<KilnDiagnostic>.Builder? warnings, CancellationToken cancellationToken)
    {
        var current = TaggedDigest(client, target.Repository, image.Version, cancellationToken);
        if (current is not { } existing || existing == image.Digest)
        {
            return;
        }

        var where = $"{registry}/{target.Repository}:{image.Version}";
        if (!request.AllowTagOverwrite)
        {
            throw new KilnException(DiagnosticCodes.PushTagTaken, $"{where} already names {existing}, and this build's {image.Name}:{image.Version} is {image.Digest}. A version names one image for ever, so the push was refused before anything was uploaded. Give the changed spec a new Version (kiln bump {image.Name}) and build again; to repair a tag on purpose, push with KilnAllowTagOverwrite=true (kiln push --allow-tag-overwrite).");
        }

        warnings?.Add(new KilnDiagnostic(DiagnosticCodes.PushTagOverwritten, $"{where} was moved from {existing} to {image.Digest} because KilnAllowTagOverwrite is set. Anything that pulled the tag before got the old image; pin deployments by digest.", IsWarning: true));
    }

    /// <summary>The digest a tag names in a repository, or null when the registry has no such tag.</summary>
    private static Digest? TaggedDigest(RegistryClient client, string repository, string tag, CancellationToken cancellationToken)
    {
        if (client.HeadManifestAsync(repository, tag, cancellationToken).GetAwaiter().GetResult() is { } head)
        {
            return head.Digest;
        }

        // A registry that answers HEAD without Docker-Content-Digest: the manifest's own bytes say which image it is.
        if (!client.ManifestExistsAsync(repository, tag, cancellationToken).GetAwaiter().GetResult())
        {
            return null;
        }

        return client.GetManifestAsync(repository, tag, cancellationToken).GetAwaiter().GetResult().Descriptor.Digest;
    }

    /// <summary>Extra tags must be tags, and never shaped like a version: a moving pointer must not shadow an immutable one.</summary>
    private static ImmutableArray<string> CheckExtraTags(ImmutableArray<string> tags, IEnumerable<ReleaseImage> images)
    {
        var versions = images.Select(i => i.Version).ToHashSet(StringComparer.Ordinal);
        var result = ImmutableArray.CreateBuilder<string>();
        foreach (var raw in tags.IsDefault ? [] : tags)
        {
            var tag = raw.Trim();
            if (tag.Length == 0)
            {
                continue;
            }

            if (!Kiln.Shared.Grammar.IsTag(tag))
            {
                throw new KilnException(DiagnosticCodes.PushExtraTagInvalid, $"KilnExtraTags: '{raw}' is not an image tag (letters, digits, '_', '.', '-'; at most 128 characters, not starting with '.' or '-').");
            }

            if (versions.Contains(tag) || Kiln.Shared.Grammar.IsVersion(tag))
            {
                throw new KilnException(DiagnosticCodes.PushExtraTagInvalid, $"KilnExtraTags: '{tag}' looks like a version. Version tags are immutable and only ever written from a spec's Version; use a tag that cannot be mistaken for one (for example 'git-<commit>' or 'main').");
            }

            if (!result.Contains(tag))
            {
                result.Add(tag);
            }
        }

        return result.ToImmutable();
    }

    /// <summary>The coded refusal of a layout whose blob is not what its name says (push and export share it).</summary>
    internal static KilnException Corrupt(OciLayout layout, string problem, string consequence) =>
        new(DiagnosticCodes.LocalBlobCorrupt, $"{problem} The image layout '{layout.Root}' is corrupt (a file under blobs/ changed after Kiln wrote it): {consequence}. Delete that blob file and build again (dotnet build).");

    /// <summary>The artifacts (attestations, SBOMs) in the layout that refer to each image of the release.</summary>
    private static Dictionary<Digest, List<(Descriptor Descriptor, ImageManifest Manifest)>> AttachedArtifacts(OciLayout layout, IEnumerable<Digest> images)
    {
        var result = new Dictionary<Digest, List<(Descriptor, ImageManifest)>>();
        foreach (var image in images.Distinct())
        {
            result[image] = [.. layout.FindReferrers(image)];
        }

        return result;
    }

    private static byte[] ReadManifest(OciLayout layout, ReleaseImage image)
    {
        if (!layout.Contains(image.Digest))
        {
            throw new KilnException(DiagnosticCodes.PushNothingBuilt, $"The manifest {image.Digest} of {image.Name}:{image.Version} is missing from the layout '{layout.Root}'. Build again.");
        }

        try
        {
            return layout.ReadBlob(image.Digest);
        }
        catch (OciFormatException e)
        {
            throw Corrupt(layout, $"The manifest of {image.Name}:{image.Version}: {e.Message}", "the push was refused before any manifest or tag was written");
        }
    }

    private static ReleaseDocument ReadRelease(string path)
    {
        if (!File.Exists(path))
        {
            throw new KilnException(DiagnosticCodes.PushNothingBuilt, $"There is nothing to push: '{path}' does not exist. Build the images first (dotnet build), or point kiln push at the build's kiln directory.");
        }

        return ReleaseDocument.Load(path);
    }

    /// <summary>Adds each image's pushed reference to release.json (replacing an earlier push to the same repository).</summary>
    private static void RecordInRelease(string path, ReleaseDocument release, IEnumerable<PushedImage> pushed) =>
        AtomicFile.Write(path, release.WithPushed(pushed).ToJson());

    /// <summary>Counts what happened to blobs while passing every event on.</summary>
    private sealed class Counter(Action<TransferEvent>? next)
    {
        private int _uploaded;
        private int _skipped;
        private int _mounted;

        public int Uploaded => _uploaded;

        public int Skipped => _skipped;

        public int Mounted => _mounted;

        public void Observe(TransferEvent e)
        {
            switch (e.Kind)
            {
                case TransferKind.Uploaded:
                    Interlocked.Increment(ref _uploaded);
                    break;
                case TransferKind.Exists:
                    Interlocked.Increment(ref _skipped);
                    break;
                case TransferKind.Mounted:
                    Interlocked.Increment(ref _mounted);
                    break;
            }

            next?.Invoke(e);
        }
    }
}
