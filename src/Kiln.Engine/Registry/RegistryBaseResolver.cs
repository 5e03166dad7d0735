using Kiln.Engine.Diagnostics;
using Kiln.Engine.Evaluation;
using Kiln.Engine.Planning;
using Kiln.Engine.Requests;
using Kiln.Oci;
using Kiln.Oci.Registry;
using Kiln.Spec;

namespace Kiln.Engine.Registry;

/// <summary>Resolves <c>BaseImage.Registry(reference@digest)</c>: pulls it into the shared cache once, then reads it from there.</summary>
internal static class RegistryBaseResolver
{
    public static BasePlan Resolve(BuildRequest request, ResolvedServer server, RegistryBase spec, Action<TransferEvent>? observer = null)
    {
        if (!ImageReference.TryParse(spec.Reference, out var reference, out var error))
        {
            throw new KilnException(DiagnosticCodes.InvalidImageReference, $"Spec '{server.SpecType}': base image '{spec.Reference}' is not a valid image reference: {error} Write it as registry/repository:tag@sha256:<digest>.");
        }

        if (reference!.Digest is null)
        {
            throw new KilnException(DiagnosticCodes.ImageReferenceNotPinned, $"Spec '{server.SpecType}': base image '{spec.Reference}' is not pinned by digest, so it could change under the same spec version. Add its digest: '{reference}@sha256:…' (skopeo inspect docker://{reference} --format '{{{{.Digest}}}}' prints it).");
        }

        var platform = ParsePlatform(spec.Platform, server);
        var cacheRoot = Path.Combine(request.CacheDirectory ?? Path.Combine(request.IntermediateDirectory, "cache"), BasePuller.CacheLayoutDirectory);
        OciLayout cache;
        try
        {
            cache = OciLayout.OpenOrCreate(cacheRoot);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OciFormatException)
        {
            throw new KilnException(DiagnosticCodes.RegistryCacheFailed, $"The image cache '{cacheRoot}' could not be opened: {e.Message} Check permissions, or point KILN_CACHE somewhere writable.");
        }

        Descriptor manifest;
        try
        {
            manifest = new BasePuller(cache, request.RegistryAccess, observer).Pull(reference, platform);
        }
        catch (RegistryException e)
        {
            throw RegistryErrors.ToKiln(e, $"Spec '{server.SpecType}': base image '{reference}'");
        }
        catch (IOException e)
        {
            throw new KilnException(DiagnosticCodes.RegistryCacheFailed, $"Spec '{server.SpecType}': writing base image '{reference}' into the cache '{cacheRoot}' failed: {e.Message}");
        }

        if (!string.IsNullOrWhiteSpace(request.BaseVerificationKey))
        {
            Attestation.BaseVerification.Require(Path.GetFullPath(request.BaseVerificationKey, request.ProjectDirectory), reference, manifest, request.RegistryAccess, $"Spec '{server.SpecType}'", observer);
        }

        try
        {
            var image = cache.ReadManifest(manifest.Digest);
            var config = cache.ReadConfig(image.Config.Digest);
            if (config.DiffIds.Length != image.Layers.Length)
            {
                throw new KilnException(DiagnosticCodes.InvalidBaseImage, $"Spec '{server.SpecType}': base '{reference}' is inconsistent: {image.Layers.Length} layers but {config.DiffIds.Length} diff_ids.");
            }

            return new BasePlan(reference.ToString(), manifest, config, image.Layers, cache);
        }
        catch (OciFormatException e)
        {
            throw new KilnException(DiagnosticCodes.InvalidBaseImage, $"Spec '{server.SpecType}': base '{reference}' is not a valid image: {e.Message}");
        }
    }

    private static Platform ParsePlatform(string? text, ResolvedServer server)
    {
        if (string.IsNullOrEmpty(text))
        {
            return new Platform("amd64", "linux");
        }

        var parts = text.Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(p => p.Length == 0))
        {
            throw new KilnException(DiagnosticCodes.InvalidPlatform, $"Spec '{server.SpecType}': platform '{text}' is not os/architecture[/variant] (for example linux/arm64/v8).");
        }

        return new Platform(parts[1], parts[0]) { Variant = parts.Length == 3 ? parts[2] : null };
    }
}
