using System.Net;
using Kiln.Oci.IO;

namespace Kiln.Oci.Registry;

/// <summary>Blob reads: existence (HEAD), verified downloads, and cross-repository mounts.</summary>
public sealed partial class RegistryClient
{
    private const int CopyBuffer = 256 * 1024;

    /// <summary>Whether the registry has the blob (HEAD).</summary>
    public async Task<bool> BlobExistsAsync(string repository, Digest digest, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Head, $"v2/{repository}/blobs/{digest}"), new RegistryScope(repository, Push: false), cancellationToken).ConfigureAwait(false);
        return response.StatusCode switch
        {
            HttpStatusCode.OK => true,
            HttpStatusCode.NotFound => false,
            _ => throw Unexpected(response, $"checking blob {digest} in '{repository}'"),
        };
    }

    /// <summary>
    /// Downloads a blob into <paramref name="destination"/>, hashing as it goes. Throws before returning if the content
    /// is longer or shorter than <paramref name="blob"/>'s size or hashes differently: the caller must then discard
    /// what was written (an <see cref="OciLayout"/> blob writer that is not completed discards itself).
    /// </summary>
    public async Task DownloadBlobAsync(string repository, Descriptor blob, Stream destination, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, $"v2/{repository}/blobs/{blob.Digest}"), new RegistryScope(repository, Push: false), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new RegistryException(RegistryFailure.NotFound, Registry, $"{Registry}/{repository} has no blob {blob.Digest}.", response.StatusCode);
        }

        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw Unexpected(response, $"downloading blob {blob.Digest} of '{repository}'");
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using var verified = new VerifyingStream(body, blob, $"blob {blob.Digest} served by {Registry}/{repository}", leaveOpen: true);
        var buffer = new byte[CopyBuffer];
        try
        {
            int read;
            while ((read = await ReadBodyAsync(verified, buffer, repository, blob.Digest, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                _options.Observer?.Invoke(new TransferEvent(TransferKind.Downloading, repository, blob.Digest, blob.Size, verified.Position));
            }
        }
        catch (ContentMismatchException e)
        {
            throw new RegistryException(RegistryFailure.ContentMismatch, Registry, $"{e.Message} The content was refused and nothing was cached.", inner: e);
        }

        _options.Observer?.Invoke(new TransferEvent(TransferKind.Downloaded, repository, blob.Digest, blob.Size, blob.Size));
    }

    /// <summary>A connection lost mid-body is the registry being unreachable, not a bug: say so with its name.</summary>
    private async Task<int> ReadBodyAsync(Stream body, byte[] buffer, string repository, Digest digest, CancellationToken cancellationToken)
    {
        try
        {
            return await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new RegistryException(RegistryFailure.Unreachable, Registry, $"The connection to registry '{Registry}' broke while downloading blob {digest} of '{repository}' ({Describe(e)}). Run again; nothing partial was kept.", inner: e);
        }
    }

    /// <summary>
    /// Mounts a blob from another repository of this registry (POST ?mount=&amp;from=). True when mounted; false when
    /// the registry declined (it then opened an upload, which is cancelled).
    /// </summary>
    public async Task<bool> MountBlobAsync(string repository, Digest digest, string fromRepository, CancellationToken cancellationToken = default)
    {
        var scope = new RegistryScope(repository, Push: true, MountFrom: fromRepository);
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, $"v2/{repository}/blobs/uploads/?mount={Uri.EscapeDataString(digest.ToString())}&from={Uri.EscapeDataString(fromRepository)}"), scope, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Created)
        {
            _options.Observer?.Invoke(new TransferEvent(TransferKind.Mounted, repository, digest, 0, 0));
            return true;
        }

        if (response.StatusCode == HttpStatusCode.Accepted && response.Headers.Location is { } location)
        {
            // The registry opened an upload instead; leave nothing dangling.
            using var cancel = await SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, Resolve(location)), new RegistryScope(repository, Push: true), cancellationToken).ConfigureAwait(false);
            return false;
        }

        throw Unexpected(response, $"mounting blob {digest} into '{repository}'");
    }
}
