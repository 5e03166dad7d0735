using System.Net;
using System.Net.Http.Headers;

namespace Kiln.Oci.Registry;

/// <summary>
/// Referrers (https://github.com/opencontainers/distribution-spec/blob/v1.1.1/spec.md#listing-referrers): artifacts
/// whose manifest names another manifest as its <c>subject</c>. A registry that implements the referrers API answers
/// the manifest PUT with an <c>OCI-Subject</c> header; for one that does not, the client maintains the referrers tag
/// schema itself: an image index tagged <c>&lt;alg&gt;-&lt;hex&gt;</c> listing every referrer of the subject.
/// </summary>
public sealed partial class RegistryClient
{
    /// <summary>The fallback tag of <paramref name="subject"/>'s referrers: <c>sha256-&lt;hex&gt;</c>.</summary>
    public static string ReferrersTag(Digest subject) => $"{subject.Algorithm}-{subject.Encoded}";

    /// <summary>
    /// Uploads a referrer manifest by its digest and makes it discoverable from its subject: through the referrers
    /// API when the registry confirms it (<c>OCI-Subject</c>), otherwise by adding <paramref name="referrer"/> to the
    /// index under the referrers tag (read, merged, written back). Returns true when the fallback tag was used.
    /// </summary>
    /// <param name="referrer">The referrer's descriptor as the referrers index lists it: media type, digest, size, artifactType, annotations.</param>
    public async Task<bool> PutReferrerAsync(string repository, Digest subject, Descriptor referrer, byte[] content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(referrer);
        bool confirmed;
        using (var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Put, $"v2/{repository}/manifests/{referrer.Digest}")
        {
            Content = new ByteArrayContent(content) { Headers = { ContentType = new MediaTypeHeaderValue(referrer.MediaType) } },
        }, new RegistryScope(repository, Push: true), cancellationToken).ConfigureAwait(false))
        {
            if (response.StatusCode != HttpStatusCode.Created && response.StatusCode != HttpStatusCode.OK)
            {
                throw Unexpected(response, $"uploading referrer manifest '{referrer.Digest}' to '{repository}'");
            }

            confirmed = response.Headers.TryGetValues("OCI-Subject", out var subjects) && subjects.Any(s => s == subject.ToString());
        }

        if (confirmed)
        {
            return false;
        }

        var tag = ReferrersTag(subject);
        var index = ImageIndex.Empty;
        try
        {
            var (_, existing) = await GetManifestAsync(repository, tag, cancellationToken).ConfigureAwait(false);
            index = ImageIndex.Parse(existing);
        }
        catch (RegistryException e) when (e.Failure == RegistryFailure.NotFound)
        {
            // The first referrer of this subject.
        }
        catch (OciFormatException)
        {
            // Not an index (someone else's tag of that name): replaced, as the distribution spec's client steps allow.
        }

        if (index.Manifests.Any(m => m.Digest == referrer.Digest))
        {
            return true;
        }

        var updated = ImageIndex.Empty with { Manifests = [.. index.Manifests, referrer] };
        await PutManifestAsync(repository, tag, MediaTypes.ImageIndex, updated.ToJson(), cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// The referrers of <paramref name="subject"/>: from the referrers API when the registry has it, else from the
    /// referrers tag; empty when neither lists any.
    /// </summary>
    public async Task<IReadOnlyList<Descriptor>> GetReferrersAsync(string repository, Digest subject, CancellationToken cancellationToken = default)
    {
        using (var response = await SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, $"v2/{repository}/referrers/{subject}");
            request.Headers.TryAddWithoutValidation("Accept", MediaTypes.ImageIndex);
            return request;
        }, new RegistryScope(repository, Push: false), cancellationToken).ConfigureAwait(false))
        {
            if (response.StatusCode == HttpStatusCode.OK)
            {
                var body = await ReadLimitedAsync(response, MaxManifestBytes, repository, $"referrers/{subject}", cancellationToken).ConfigureAwait(false);
                return ImageIndex.Parse(body).Manifests;
            }
        }

        try
        {
            var (_, content) = await GetManifestAsync(repository, ReferrersTag(subject), cancellationToken).ConfigureAwait(false);
            return ImageIndex.Parse(content).Manifests;
        }
        catch (RegistryException e) when (e.Failure == RegistryFailure.NotFound)
        {
            return [];
        }
    }
}
