using Kiln.Engine.Diagnostics;
using Kiln.Engine.Evaluation;
using Kiln.Engine.Registry;
using Kiln.Engine.Requests;
using Kiln.Oci;
using Kiln.Oci.Registry;
using Kiln.Spec;

namespace Kiln.Engine.Planning.Bases;

/// <summary>
/// <c>BaseImage.Registry(reference@digest)</c>: pulled once into the shared cache (verified by digest), then read from
/// there; a cached, pinned base needs no network.
/// </summary>
/// <param name="registry">How registries are reached and where the cache is.</param>
/// <param name="intermediateDirectory">Holds the cache when <see cref="RegistryOptions.CacheDirectory"/> is not set.</param>
/// <param name="observer">Receives the pulls' progress (the engine logs one line per blob).</param>
internal sealed class RegistryBaseSource(RegistryOptions registry, string intermediateDirectory, Action<TransferEvent>? observer = null) : IBaseSource
{
    public string Key(ResolvedServer server, Platform platform) => $"registry|{Spec(server).Reference}|{Spec(server).Platform}|{platform}";

    public BasePlan Resolve(ResolvedServer server, Platform platform)
    {
        var spec = Spec(server);
        if (!ImageReference.TryParse(spec.Reference, out var reference, out var error))
        {
            throw new KilnException(DiagnosticCodes.InvalidImageReference, $"Spec '{server.SpecType}': base image '{spec.Reference}' is not a valid image reference: {error} Write it as registry/repository:tag@sha256:<digest>.");
        }

        if (reference!.Digest is null)
        {
            throw new KilnException(DiagnosticCodes.ImageReferenceNotPinned, $"Spec '{server.SpecType}': base image '{spec.Reference}' is not pinned by digest, so it could change under the same spec version. Add its digest: '{reference}@sha256:…' (skopeo inspect docker://{reference} --format '{{{{.Digest}}}}' prints it).");
        }

        // The spec may name the base's platform explicitly (a base whose index labels it differently).
        var wanted = string.IsNullOrEmpty(spec.Platform) ? platform : ParsePlatform(spec.Platform, server);
        var cacheRoot = Path.Combine(registry.CacheDirectory ?? Path.Combine(intermediateDirectory, "cache"), BasePuller.CacheLayoutDirectory);
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
            manifest = new BasePuller(cache, registry.Access, observer).Pull(reference, wanted);
        }
        catch (RegistryException e)
        {
            throw RegistryErrors.ToKiln(e, $"Spec '{server.SpecType}': base image '{reference}'");
        }
        catch (PlatformMissingException e)
        {
            throw LayoutImage.PlatformMissing($"Spec '{server.SpecType}': base image '{reference}'", e.Platform, e.Available);
        }
        catch (IOException e)
        {
            throw new KilnException(DiagnosticCodes.RegistryCacheFailed, $"Spec '{server.SpecType}': writing base image '{reference}' into the cache '{cacheRoot}' failed: {e.Message}");
        }

        // The puller returns the platform's image manifest with every blob in the cache; Load checks its config says
        // that platform before the key check asks the registry about it.
        var plan = LayoutImage.Load(cache, manifest, reference.ToString(), server, reference.ToString(), wanted);
        if (registry.BaseVerificationKey is { } key)
        {
            // The key vouches for the chosen platform's manifest, the one the server is built on, not for the index.
            Attestation.BaseVerification.Require(key, reference, manifest, registry.Access, $"Spec '{server.SpecType}'", observer);
        }

        return plan;
    }

    private static RegistryBase Spec(ResolvedServer server) => (RegistryBase)server.Base;

    private static Platform ParsePlatform(string text, ResolvedServer server)
    {
        var parts = text.Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(p => p.Length == 0))
        {
            throw new KilnException(DiagnosticCodes.InvalidPlatform, $"Spec '{server.SpecType}': platform '{text}' is not os/architecture[/variant] (for example linux/arm64/v8).");
        }

        return new Platform(parts[1], parts[0]) { Variant = parts.Length == 3 ? parts[2] : null };
    }
}
