using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text.Json;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Lock;
using Kiln.Oci;
using Kiln.Oci.Registry;

namespace Kiln.Engine.Attestation;

/// <summary>What <c>kiln verify-image</c> checks against.</summary>
/// <param name="Source">An OCI layout directory, or a registry reference (<c>host/repo:tag</c> or <c>@sha256:…</c>).</param>
/// <param name="PublicKey">The PEM file of the ECDSA P-256 public key the provenance must be signed with.</param>
/// <param name="Image">In a layout with several images, the ref name (<c>name:version</c>) to verify.</param>
/// <param name="LockFile">The project's kiln.lock.json; null skips the lock comparison.</param>
public sealed record VerifyImageRequest(string Source, string PublicKey, string? Image = null, string? LockFile = null)
{
    /// <summary>How registries are reached (insecure registries, credentials), from the edge.</summary>
    public Registry.RegistrySettings Settings { get; init; } = new();

    /// <summary>When the source names a multi-platform index, the platform whose image manifest is verified (its
    /// provenance is attached to that manifest, not to the index); null is linux/amd64.</summary>
    public Platform? Platform { get; init; }
}

/// <summary>A verified image: its digest, the builder, the key that signed it and how many dependencies were compared with the lock.</summary>
public sealed record VerifyImageResult(string Source, Digest Digest, string Name, string Version, string BuilderId, string KeyId, int Dependencies, int DependenciesCheckedAgainstLock);

/// <summary>
/// Verifies an image's provenance: the image matches its digest, a DSSE envelope attached to it verifies with the key,
/// its statement names this image and Kiln's builder, and its resolved dependencies agree with kiln.lock.json. The
/// first failure is thrown as a <see cref="KilnException"/> with its own code (the CLI maps codes to exit codes).
/// </summary>
internal static class ImageVerifier
{
    private sealed record Attestation(Descriptor Manifest, Digest Subject, byte[] Envelope);

    public static VerifyImageResult Verify(VerifyImageRequest request)
    {
        using var key = LoadPublicKey(request.PublicKey);
        var keyId = Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
        var (digest, attestations) = Directory.Exists(request.Source) ? FromLayout(request) : FromRegistry(request);
        return VerifyAttestations(request, key, keyId, digest, attestations);
    }

    /// <summary>
    /// Verifies the provenance a registry holds for one image manifest (a base pinned by digest, already pulled and
    /// verified by digest): the same checks as <see cref="Verify"/>, on the referrers of <paramref name="manifest"/>.
    /// </summary>
    public static VerifyImageResult VerifyManifestInRegistry(VerifyImageRequest request, RegistryClient client, string repository, Digest manifest)
    {
        using var key = LoadPublicKey(request.PublicKey);
        var keyId = Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
        return FromRegistry(request, () => VerifyAttestations(request, key, keyId, manifest, AttestationsInRegistry(client, repository, manifest)));
    }

    /// <summary>
    /// Reads from a registry for <paramref name="request"/>: content that does not match its digest is a tampered
    /// image, other registry failures keep their own codes, and an unreadable artifact is a malformed attestation.
    /// </summary>
    private static T FromRegistry<T>(VerifyImageRequest request, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (RegistryException e) when (e.Failure == RegistryFailure.ContentMismatch)
        {
            throw new KilnException(DiagnosticCodes.ImageTampered, $"{request.Source}: {e.Message}");
        }
        catch (RegistryException e)
        {
            throw Registry.RegistryErrors.ToKiln(e, $"Verifying '{request.Source}'");
        }
        catch (OciFormatException e)
        {
            throw new KilnException(DiagnosticCodes.AttestationMalformed, $"{request.Source}: {e.Message}");
        }
    }

    private static VerifyImageResult VerifyAttestations(VerifyImageRequest request, ECDsa key, string keyId, Digest digest, List<Attestation> attestations)
    {
        if (attestations.Count == 0)
        {
            throw new KilnException(DiagnosticCodes.AttestationMissing, $"{request.Source}: image {digest} has no provenance attestation attached (no referrer of type {Referrers.ProvenanceArtifactType}). Build and push it with Kiln, or copy its referrers with it.");
        }

        // Any one attestation that verifies is enough; the failure reported is the first one's, the most telling.
        KilnException? first = null;
        foreach (var attestation in attestations)
        {
            try
            {
                return VerifyOne(request, key, keyId, digest, attestation);
            }
            catch (KilnException e)
            {
                first ??= e;
            }
        }

        throw first!;
    }

    private static VerifyImageResult VerifyOne(VerifyImageRequest request, ECDsa key, string keyId, Digest digest, Attestation attestation)
    {
        if (attestation.Subject != digest)
        {
            throw new KilnException(DiagnosticCodes.AttestationSubjectMismatch, $"{request.Source}: attestation {attestation.Manifest.Digest} has subject {attestation.Subject}, not the image {digest}.");
        }

        Dsse.ParsedEnvelope envelope;
        try
        {
            envelope = Dsse.Parse(attestation.Envelope);
        }
        catch (AttestationFormatException e)
        {
            throw new KilnException(DiagnosticCodes.AttestationMalformed, $"{request.Source}: attestation {attestation.Manifest.Digest}: {e.Message}");
        }

        if (envelope.PayloadType != Dsse.InTotoPayloadType)
        {
            throw new KilnException(DiagnosticCodes.AttestationMalformed, $"{request.Source}: attestation {attestation.Manifest.Digest} has payload type '{envelope.PayloadType}', not {Dsse.InTotoPayloadType}.");
        }

        var pae = Dsse.PreAuthenticationEncoding(envelope.PayloadType, envelope.Payload);
        if (!envelope.Signatures.Any(s => key.VerifyData(pae, s.Signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)))
        {
            var carried = envelope.Signatures.Count == 0 ? "no signature (an unsigned build)" : "signatures by key id(s) " + string.Join(", ", envelope.Signatures.Select(s => s.KeyId));
            throw new KilnException(DiagnosticCodes.AttestationSignatureInvalid, $"{request.Source}: the provenance of {digest} does not verify with key {keyId}: it carries {carried}.");
        }

        return CheckStatement(request, keyId, digest, envelope.Payload);
    }

    private static VerifyImageResult CheckStatement(VerifyImageRequest request, string keyId, Digest digest, byte[] payload)
    {
        try
        {
            using var document = JsonDocument.Parse(payload);
            var root = document.RootElement;
            var predicate = root.GetProperty("predicate");
            var definition = predicate.GetProperty("buildDefinition");
            var builder = predicate.GetProperty("runDetails").GetProperty("builder").GetProperty("id").GetString() ?? "";
            if (root.GetProperty("_type").GetString() != Provenance.StatementType
                || root.GetProperty("predicateType").GetString() != Provenance.PredicateType
                || definition.GetProperty("buildType").GetString() != Provenance.BuildType
                || builder != Provenance.BuilderId)
            {
                throw new KilnException(DiagnosticCodes.AttestationBuilderMismatch, $"{request.Source}: the provenance of {digest} is not Kiln's (builder '{builder}', build type '{definition.GetProperty("buildType").GetString()}'); expected builder {Provenance.BuilderId} and build type {Provenance.BuildType}.");
            }

            var subjects = root.GetProperty("subject").EnumerateArray()
                .Select(s => s.GetProperty("digest").TryGetProperty(digest.Algorithm, out var d) ? d.GetString() : null)
                .ToArray();
            if (!subjects.Contains(digest.Encoded))
            {
                throw new KilnException(DiagnosticCodes.AttestationSubjectMismatch, $"{request.Source}: the signed statement attests {string.Join(", ", subjects.Select(s => s ?? "(no " + digest.Algorithm + ")"))}, not the image {digest}.");
            }

            var external = definition.GetProperty("externalParameters");
            var name = external.GetProperty("name").GetString() ?? "";
            var version = external.GetProperty("version").GetString() ?? "";
            var dependencies = definition.GetProperty("resolvedDependencies").EnumerateArray().ToArray();
            var checkedAgainstLock = request.LockFile is null ? 0 : CheckLock(request, digest, name, version, dependencies);
            return new VerifyImageResult(request.Source, digest, name, version, builder, keyId, dependencies.Length, checkedAgainstLock);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new KilnException(DiagnosticCodes.AttestationMalformed, $"{request.Source}: the provenance statement of {digest} is not an in-toto Statement v1 with an SLSA Provenance v1 predicate: {e.Message}");
        }
    }

    /// <summary>The image digest the lock pins for name@version, and every pkg:deb dependency against the lock's package sets.</summary>
    private static int CheckLock(VerifyImageRequest request, Digest digest, string name, string version, JsonElement[] dependencies)
    {
        var kilnLock = KilnLock.Load(request.LockFile!);
        var problems = new List<string>();
        var compared = 0;
        if (kilnLock.Servers.TryGetValue(name, out var versions) && versions.TryGetValue(version, out var locked))
        {
            compared++;
            if (locked.Digest != digest.ToString())
            {
                problems.Add($"the lock pins {name}:{version} to {locked.Digest}, not {digest}");
            }
        }

        var packages = kilnLock.PackageBases.Values.SelectMany(s => s.Packages)
            .GroupBy(p => $"pkg:deb/debian/{Manifests.Sbom.PurlEncode(p.Name)}@{Manifests.Sbom.PurlEncode(p.Version)}?arch={Manifests.Sbom.PurlEncode(p.Architecture)}", StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(p => p.Sha256.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var dependency in dependencies)
        {
            var uri = dependency.TryGetProperty("uri", out var u) ? u.GetString() ?? "" : "";
            if (!uri.StartsWith("pkg:deb/", StringComparison.Ordinal))
            {
                continue;
            }

            compared++;
            var sha = dependency.TryGetProperty("digest", out var d) && d.TryGetProperty("sha256", out var s) ? s.GetString() : null;
            if (!packages.TryGetValue(uri, out var pinned))
            {
                problems.Add($"{uri} is not pinned by the lock");
            }
            else if (sha is null || !pinned.Contains(sha))
            {
                problems.Add($"{uri} has sha256 {sha ?? "(none)"}, the lock pins {string.Join(" or ", pinned)}");
            }
        }

        if (problems.Count > 0)
        {
            throw new KilnException(DiagnosticCodes.AttestationDependencyMismatch, $"{request.Source}: the provenance of {digest} disagrees with '{request.LockFile}': {string.Join("; ", problems)}.");
        }

        return compared;
    }

    private static ECDsa LoadPublicKey(string path)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(File.ReadAllText(path));
            if (key.KeySize != 256)
            {
                throw new CryptographicException("not P-256");
            }

            return key;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            key.Dispose();
            throw new KilnException(DiagnosticCodes.VerificationKeyUnusable, $"The verification key '{path}' cannot be read or is not an ECDSA P-256 public key in PEM form ({e.GetType().Name}). Export it with: openssl ec -in kiln-signing.pem -pubout -out kiln-signing.pub");
        }
    }

    private static (Digest Digest, List<Attestation> Attestations) FromLayout(VerifyImageRequest request)
    {
        OciLayout layout;
        Descriptor descriptor;
        try
        {
            layout = OciLayout.Open(request.Source);
            descriptor = layout.FindManifest(request.Image)
                ?? throw new KilnException(DiagnosticCodes.ImageTampered, $"{request.Source}: no image '{request.Image}' in the layout; it has {string.Join(", ", layout.ReadImages().Select(m => m.RefName ?? m.Digest.ToString()))}.");
            for (var depth = 0; MediaTypes.IsIndex(descriptor.MediaType) && depth < 4; depth++)
            {
                if (!layout.VerifyBlob(descriptor.Digest, descriptor.Size))
                {
                    throw new KilnException(DiagnosticCodes.ImageTampered, $"{request.Source}: the index of '{request.Image ?? descriptor.RefName}' is missing or does not match its digest {descriptor.Digest}.");
                }

                descriptor = ChoosePlatform(request, layout.ReadImageIndex(descriptor.Digest));
            }
        }
        catch (OciFormatException e)
        {
            throw new KilnException(DiagnosticCodes.ImageTampered, $"{request.Source}: {e.Message}");
        }

        // Every blob of the image must be what its digest says: the signature vouches for a digest, nothing else.
        try
        {
            if (!layout.VerifyBlob(descriptor.Digest, descriptor.Size))
            {
                throw new KilnException(DiagnosticCodes.ImageTampered, $"{request.Source}: the manifest of '{request.Image ?? descriptor.RefName}' is missing or does not match its digest {descriptor.Digest}.");
            }

            var manifest = layout.ReadManifest(descriptor.Digest);
            foreach (var blob in manifest.Layers.Prepend(manifest.Config).Where(b => !layout.VerifyBlob(b.Digest, b.Size)))
            {
                throw new KilnException(DiagnosticCodes.ImageTampered, $"{request.Source}: blob {blob.Digest} of image {descriptor.Digest} is missing or does not match its digest: the image was altered after it was built.");
            }

            var attestations = new List<Attestation>();
            foreach (var (entry, artifact) in layout.FindReferrers(descriptor.Digest).Where(r => r.Descriptor.ArtifactType == Referrers.ProvenanceArtifactType))
            {
                if (!layout.VerifyBlob(entry.Digest, entry.Size))
                {
                    throw new KilnException(DiagnosticCodes.AttestationMalformed, $"{request.Source}: attestation manifest {entry.Digest} does not match its digest: it was altered.");
                }

                var layer = artifact.Layers.FirstOrDefault(l => l.MediaType == Dsse.EnvelopeMediaType)
                    ?? throw new KilnException(DiagnosticCodes.AttestationMalformed, $"{request.Source}: attestation {entry.Digest} has no {Dsse.EnvelopeMediaType} layer.");
                if (!layout.VerifyBlob(layer.Digest, layer.Size))
                {
                    throw new KilnException(DiagnosticCodes.AttestationMalformed, $"{request.Source}: the envelope {layer.Digest} of attestation {entry.Digest} is missing or does not match its digest: it was altered.");
                }

                attestations.Add(new Attestation(entry, artifact.Subject!.Digest, layout.ReadBlob(layer.Digest)));
            }

            return (descriptor.Digest, attestations);
        }
        catch (OciFormatException e)
        {
            throw new KilnException(DiagnosticCodes.ImageTampered, $"{request.Source}: {e.Message}");
        }
    }

    private static (Digest Digest, List<Attestation> Attestations) FromRegistry(VerifyImageRequest request)
    {
        if (!ImageReference.TryParse(request.Source, out var reference, out var error))
        {
            throw new KilnException(DiagnosticCodes.ImageTampered, $"'{request.Source}' is neither a layout directory nor an image reference: {error}");
        }

        using var client = request.Settings.Client(reference!.Registry);
        return FromRegistry(request, () =>
        {
            // GetManifestAsync refuses content that does not hash to a pinned digest: a tampered manifest never gets here.
            var (descriptor, content) = client.GetManifestAsync(reference.Repository, reference.Selector).GetAwaiter().GetResult();
            for (var depth = 0; MediaTypes.IsIndex(descriptor.MediaType) && depth < 4; depth++)
            {
                // Provenance is attached to each platform's image manifest: follow the index to the one asked for.
                var entry = ChoosePlatform(request, ImageIndex.Parse(content));
                (descriptor, content) = client.GetManifestAsync(reference.Repository, entry.Digest.ToString()).GetAwaiter().GetResult();
            }

            return (descriptor.Digest, AttestationsInRegistry(client, reference.Repository, descriptor.Digest));
        });
    }

    /// <summary>The entry of <paramref name="index"/> for the request's platform; KILN2160 when it has none.</summary>
    private static Descriptor ChoosePlatform(VerifyImageRequest request, ImageIndex index)
    {
        var platform = request.Platform ?? PlatformSelection.LinuxAmd64;
        return PlatformSelection.Select(index, platform)
            ?? throw new KilnException(DiagnosticCodes.ImagePlatformMissing, $"{request.Source}{(request.Image is null ? "" : " (" + request.Image + ")")} is a multi-platform image without an image for {platform}; it has: {PlatformSelection.Available(index)}. Name one of those with --platform.");
    }

    private static List<Attestation> AttestationsInRegistry(RegistryClient client, string repository, Digest subject)
    {
        var attestations = new List<Attestation>();
        foreach (var referrer in client.GetReferrersAsync(repository, subject).GetAwaiter().GetResult()
            .Where(r => r.ArtifactType == Referrers.ProvenanceArtifactType))
        {
            var (_, content) = client.GetManifestAsync(repository, referrer.Digest.ToString()).GetAwaiter().GetResult();
            var artifact = ImageManifest.Parse(content);
            var layer = artifact.Layers.FirstOrDefault(l => l.MediaType == Dsse.EnvelopeMediaType);
            if (layer is null || artifact.Subject is null)
            {
                continue;
            }

            using var buffer = new MemoryStream();
            client.DownloadBlobAsync(repository, layer, buffer).GetAwaiter().GetResult();
            attestations.Add(new Attestation(referrer, artifact.Subject.Digest, buffer.ToArray()));
        }

        return attestations;
    }
}
