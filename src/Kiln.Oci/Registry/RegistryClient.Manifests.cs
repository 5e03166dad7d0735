using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Kiln.Oci.Registry;

/// <summary>Manifest operations: HEAD, GET (verified against the digest asked for or announced), PUT.</summary>
public sealed partial class RegistryClient
{
    private const int MaxManifestBytes = 4 * 1024 * 1024;

    private static readonly string ManifestAccept = string.Join(", ", MediaTypes.ImageManifest, MediaTypes.ImageIndex, MediaTypes.DockerManifest, MediaTypes.DockerManifestList);

    /// <summary>The manifest's descriptor (HEAD), or null when the registry does not have it.</summary>
    public async Task<Descriptor?> HeadManifestAsync(string repository, string reference, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => ManifestRequest(HttpMethod.Head, repository, reference), new RegistryScope(repository, Push: false), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw Unexpected(response, $"checking manifest '{reference}' in '{repository}'");
        }

        var digestHeader = response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.FirstOrDefault() : null;
        if (!Digest.TryParse(digestHeader, out var digest) || response.Content.Headers.ContentLength is not { } length)
        {
            return null;
        }

        return new Descriptor(response.Content.Headers.ContentType?.MediaType ?? MediaTypes.ImageManifest, digest, length);
    }

    /// <summary>Whether the registry serves the manifest (HEAD answered 200, not 404).</summary>
    public async Task<bool> ManifestExistsAsync(string repository, string reference, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => ManifestRequest(HttpMethod.Head, repository, reference), new RegistryScope(repository, Push: false), cancellationToken).ConfigureAwait(false);
        return response.StatusCode switch
        {
            HttpStatusCode.OK => true,
            HttpStatusCode.NotFound => false,
            _ => throw Unexpected(response, $"checking manifest '{reference}' in '{repository}'"),
        };
    }

    /// <summary>
    /// Fetches a manifest or index by tag or digest. When <paramref name="reference"/> is a digest the content must
    /// hash to it; otherwise it must match the Docker-Content-Digest the registry sent, if any.
    /// </summary>
    /// <exception cref="RegistryException">Not found, refused, or content that does not match its digest.</exception>
    public async Task<(Descriptor Descriptor, byte[] Content)> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => ManifestRequest(HttpMethod.Get, repository, reference), new RegistryScope(repository, Push: false), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new RegistryException(RegistryFailure.NotFound, Registry, $"{Registry}/{repository} has no manifest '{reference}'.", response.StatusCode);
        }

        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw Unexpected(response, $"fetching manifest '{reference}' of '{repository}'");
        }

        var content = await ReadLimitedAsync(response, MaxManifestBytes, repository, reference, cancellationToken).ConfigureAwait(false);
        Digest? expected = Digest.TryParse(reference, out var pinned) ? pinned
            : Digest.TryParse(response.Headers.TryGetValues("Docker-Content-Digest", out var v) ? v.FirstOrDefault() : null, out var sent) ? sent : null;
        var actual = Digest.Sha256(content);
        if (expected is { } e && e != actual)
        {
            throw new RegistryException(RegistryFailure.ContentMismatch, Registry, $"{Registry}/{repository} served manifest '{reference}' with content whose digest is {actual}, not {e}. The content was refused.");
        }

        var mediaType = MediaTypeOf(content) ?? response.Content.Headers.ContentType?.MediaType ?? MediaTypes.ImageManifest;
        return (new Descriptor(mediaType, actual, content.Length), content);
    }

    /// <summary>Uploads a manifest under a tag or its digest.</summary>
    public async Task PutManifestAsync(string repository, string reference, string mediaType, byte[] content, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Put, $"v2/{repository}/manifests/{reference}")
        {
            Content = new ByteArrayContent(content) { Headers = { ContentType = new MediaTypeHeaderValue(mediaType) } },
        }, new RegistryScope(repository, Push: true), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Created && response.StatusCode != HttpStatusCode.OK)
        {
            throw Unexpected(response, $"uploading manifest '{reference}' to '{repository}'");
        }
    }

    private static HttpRequestMessage ManifestRequest(HttpMethod method, string repository, string reference)
    {
        var request = new HttpRequestMessage(method, $"v2/{repository}/manifests/{reference}");
        request.Headers.TryAddWithoutValidation("Accept", ManifestAccept);
        return request;
    }

    private async Task<byte[]> ReadLimitedAsync(HttpResponseMessage response, int limit, string repository, string reference, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > limit)
        {
            throw new RegistryException(RegistryFailure.Protocol, Registry, $"Manifest '{reference}' of {Registry}/{repository} is larger than {limit} bytes.");
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > limit)
            {
                throw new RegistryException(RegistryFailure.Protocol, Registry, $"Manifest '{reference}' of {Registry}/{repository} is larger than {limit} bytes.");
            }
        }

        return buffer.ToArray();
    }

    /// <summary>The manifest's own mediaType field, which is authoritative over the Content-Type header.</summary>
    private static string? MediaTypeOf(byte[] content)
    {
        try
        {
            using var document = JsonDocument.Parse(content);
            return document.RootElement.TryGetProperty("mediaType", out var m) ? m.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
