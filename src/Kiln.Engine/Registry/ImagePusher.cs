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
/// manifest whose blobs are missing; an interrupted push is simply run again. What is pushed is what the layout's tag
/// <c>name:version</c> names: an image manifest, or a multi-platform image's index, whose platform manifests (and their
/// blobs) all go first, then the index by digest, then the tags, which name the index.
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

        // What each layout tag name:version names (an image manifest, or the index of a multi-platform image), read and
        // checked before the registry is asked anything.
        var units = targets.Select(t => ReadUnit(layout, t.Image, t.Target)).ToList();

        var counter = new Counter(observer);
        using var client = request.Settings.Client(registry, counter.Observe, handler);
        var holders = new ConcurrentDictionary<Digest, string>();
        var pushed = ImmutableArray.CreateBuilder<PushedImage>();
        var warnings = ImmutableArray.CreateBuilder<KilnDiagnostic>();
        try
        {
            // Refused before any blob goes over the wire: a push that would move a version leaves the registry as it was.
            foreach (var unit in units)
            {
                CheckVersionTag(client, unit.Image, unit.Root.Digest, unit.Target, registry, warnings: null, cancellationToken);
            }

            // Every blob of every image (of every platform) first, then manifests and tags: a blob refused on the way (a
            // corrupt file in the layout) leaves no image of this push tagged, not only the one it belongs to.
            foreach (var unit in units)
            {
                var (image, target) = (unit.Image, unit.Target);
                Parallel.ForEachAsync(unit.Blobs, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, request.Parallelism), CancellationToken = cancellationToken }, async (blob, ct) =>
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
            }

            foreach (var unit in units)
            {
                var (image, target, root) = (unit.Image, unit.Target, unit.Root);

                // Each platform's manifest by digest before the index that lists them (a registry may refuse an index
                // whose manifests it lacks), the index by digest, and only then the tags: a tag never names content
                // that is not complete.
                foreach (var (descriptor, bytes) in unit.Manifests)
                {
                    client.PutManifestAsync(target.Repository, descriptor.Digest.ToString(), descriptor.MediaType, bytes, cancellationToken).GetAwaiter().GetResult();
                }

                var rootBytes = unit.Manifests[^1].Bytes;
                CheckVersionTag(client, image, root.Digest, target, registry, warnings, cancellationToken);
                client.PutManifestAsync(target.Repository, image.Version, root.MediaType, rootBytes, cancellationToken).GetAwaiter().GetResult();
                foreach (var tag in extraTags)
                {
                    client.PutManifestAsync(target.Repository, tag, root.MediaType, rootBytes, cancellationToken).GetAwaiter().GetResult();
                }

                // Attestations and the SBOM after the image manifest they refer to: the referrers API, or the sha256-<hex> tag.
                foreach (var (subject, artifacts) in unit.Attached)
                {
                    foreach (var artifact in artifacts)
                    {
                        client.PutReferrerAsync(target.Repository, subject, artifact.Descriptor, layout.ReadBlob(artifact.Descriptor.Digest), cancellationToken).GetAwaiter().GetResult();
                    }
                }

                pushed.Add(new PushedImage(image.Name, image.Version, $"{registry}/{target.Repository}", target.With(image.Version, root.Digest).ToString(), root.Digest, extraTags));
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
    private void CheckVersionTag(RegistryClient client, ReleaseImage image, Digest digest, ImageReference target, string registry, ImmutableArray<KilnDiagnostic>.Builder? warnings, CancellationToken cancellationToken)
    {
        var current = TaggedDigest(client, target.Repository, image.Version, cancellationToken);
        if (current is not { } existing || existing == digest)
        {
            return;
        }

        var where = $"{registry}/{target.Repository}:{image.Version}";
        if (!request.AllowTagOverwrite)
        {
            throw new KilnException(DiagnosticCodes.PushTagTaken, $"{where} already names {existing}, and this build's {image.Name}:{image.Version} is {digest}. A version names one image for ever, so the push was refused before anything was uploaded. Give the changed spec a new Version (kiln bump {image.Name}) and build again; to repair a tag on purpose, push with KilnAllowTagOverwrite=true (kiln push --allow-tag-overwrite).");
        }

        warnings?.Add(new KilnDiagnostic(DiagnosticCodes.PushTagOverwritten, $"{where} was moved from {existing} to {digest} because KilnAllowTagOverwrite is set. Anything that pulled the tag before got the old image; pin deployments by digest.", IsWarning: true));
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

    /// <summary>One image to push: what its layout tag names, and everything that goes with it.</summary>
    /// <param name="Root">What the layout tag name:version names: an image manifest, or a multi-platform image's index.</param>
    /// <param name="Manifests">Every manifest and index of the image with its bytes, those an index lists before it; the root last.</param>
    /// <param name="Blobs">The configs and layers of every platform's image and of the artifacts that refer to them.</param>
    /// <param name="Attached">The artifacts (attestations, SBOMs) in the layout that refer to each of those manifests.</param>
    private sealed record PushUnit(
        ReleaseImage Image,
        ImageReference Target,
        Descriptor Root,
        IReadOnlyList<(Descriptor Descriptor, byte[] Bytes)> Manifests,
        IReadOnlyList<Descriptor> Blobs,
        IReadOnlyList<(Digest Subject, IReadOnlyList<(Descriptor Descriptor, ImageManifest Manifest)> Artifacts)> Attached);

    /// <summary>
    /// Reads what the layout tags <c>name:version</c> (release.json's digest when the layout has no such tag, as a layout
    /// written before images were tagged may): a manifest, or an index followed down to every platform's manifest.
    /// </summary>
    private static PushUnit ReadUnit(OciLayout layout, ReleaseImage image, ImageReference target)
    {
        Descriptor root;
        try
        {
            root = layout.FindManifest(image.Reference) is { } tagged
                ? new Descriptor(tagged.MediaType, tagged.Digest, tagged.Size)
                : new Descriptor(image.MediaType, image.Digest, image.Size);
        }
        catch (OciFormatException e)
        {
            throw Corrupt(layout, $"The layout's index.json: {e.Message}", "the push was refused before anything was uploaded");
        }

        var manifests = new List<(Descriptor, byte[])>();
        var images = new List<(Descriptor Descriptor, ImageManifest Manifest)>();
        Collect(root, depth: 0);

        var attached = manifests.Select(m => m.Item1.Digest).Distinct()
            .Select(subject => (subject, (IReadOnlyList<(Descriptor, ImageManifest)>)[.. layout.FindReferrers(subject)]))
            .Where(a => a.Item2.Count > 0)
            .ToList();
        var blobs = images.SelectMany(i => i.Manifest.Layers.Prepend(i.Manifest.Config))
            .Concat(attached.SelectMany(a => a.Item2).SelectMany(a => a.Item2.Layers.Prepend(a.Item2.Config)))
            .DistinctBy(b => b.Digest)
            .ToList();
        return new PushUnit(image, target, root, manifests, blobs, attached);

        void Collect(Descriptor descriptor, int depth)
        {
            var bytes = ReadManifest(layout, image, descriptor);
            try
            {
                if (MediaTypes.IsIndex(descriptor.MediaType))
                {
                    if (depth > 2)
                    {
                        throw new OciFormatException($"indexes nest too deeply under {descriptor.Digest}.");
                    }

                    foreach (var entry in ImageIndex.Parse(bytes).Manifests)
                    {
                        Collect(entry, depth + 1);
                    }
                }
                else
                {
                    images.Add((descriptor, ImageManifest.Parse(bytes)));
                }
            }
            catch (OciFormatException e)
            {
                throw Corrupt(layout, $"The manifest {descriptor.Digest} of {image.Name}:{image.Version}: {e.Message}", "the push was refused before anything was uploaded");
            }

            manifests.Add((descriptor, bytes));
        }
    }

    private static byte[] ReadManifest(OciLayout layout, ReleaseImage image, Descriptor descriptor)
    {
        if (!layout.Contains(descriptor.Digest))
        {
            throw new KilnException(DiagnosticCodes.PushNothingBuilt, $"The manifest {descriptor.Digest} of {image.Name}:{image.Version} is missing from the layout '{layout.Root}'. Build again.");
        }

        byte[] bytes;
        try
        {
            bytes = layout.ReadBlob(descriptor.Digest);
        }
        catch (OciFormatException e)
        {
            throw Corrupt(layout, $"The manifest of {image.Name}:{image.Version}: {e.Message}", "the push was refused before any manifest or tag was written");
        }

        return bytes.Length == descriptor.Size
            ? bytes
            : throw Corrupt(layout, $"The manifest {descriptor.Digest} of {image.Name}:{image.Version} is {bytes.Length} bytes, but what names it says {descriptor.Size}.", "the push was refused before any manifest or tag was written");
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
