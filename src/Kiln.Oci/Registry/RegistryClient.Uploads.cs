using System.Net;
using System.Net.Http.Headers;
using Kiln.Oci.Http;
using Kiln.Oci.IO;

namespace Kiln.Oci.Registry;

/// <summary>
/// Blob uploads: POST to open a session, then one PUT, or PATCH chunks and a closing PUT. Every byte sent is hashed on
/// its way out (<see cref="VerifyingStream"/>): content that does not match the descriptor is refused before its last
/// byte leaves, so the registry never completes the upload and nothing can name it.
/// </summary>
public sealed partial class RegistryClient
{
    /// <summary>
    /// Uploads a blob unless the registry has it: HEAD first; then one PUT, or PATCH chunks when the blob is larger than
    /// <see cref="RegistryClientOptions.ChunkSize"/>. <paramref name="open"/> is called once per attempt. Returns whether
    /// bytes were sent.
    /// </summary>
    /// <exception cref="ContentMismatchException">What <paramref name="open"/> gives is not the blob described.</exception>
    public async Task<bool> PushBlobAsync(string repository, Descriptor blob, Func<Stream> open, CancellationToken cancellationToken = default)
    {
        if (await BlobExistsAsync(repository, blob.Digest, cancellationToken).ConfigureAwait(false))
        {
            _options.Observer?.Invoke(new TransferEvent(TransferKind.Exists, repository, blob.Digest, blob.Size, blob.Size));
            return false;
        }

        await UploadBlobAsync(repository, blob, open, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Uploads a blob (POST to open the session, then PUT or PATCH…PUT). A throttled request is sent again in the same
    /// session once the registry's Retry-After has passed; other transient failures restart the session.
    /// </summary>
    /// <exception cref="ContentMismatchException">What <paramref name="open"/> gives is not the blob described.</exception>
    public async Task UploadBlobAsync(string repository, Descriptor blob, Func<Stream> open, CancellationToken cancellationToken = default)
    {
        try
        {
            await _retry.ExecuteAsync(async ct =>
            {
                await UploadOnceAsync(repository, blob, open, ct).ConfigureAwait(false);
                return true;
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (RetryBudgetExhaustedException e)
        {
            throw GaveUp(e);
        }

        _options.Observer?.Invoke(new TransferEvent(TransferKind.Uploaded, repository, blob.Digest, blob.Size, blob.Size));
    }

    private async Task UploadOnceAsync(string repository, Descriptor blob, Func<Stream> open, CancellationToken cancellationToken)
    {
        Uri location;
        using (var start = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, $"v2/{repository}/blobs/uploads/"), new RegistryScope(repository, Push: true), cancellationToken).ConfigureAwait(false))
        {
            if (start.StatusCode != HttpStatusCode.Accepted || start.Headers.Location is null)
            {
                throw Unexpected(start, $"starting an upload of {blob.Digest} to '{repository}'");
            }

            location = Resolve(start.Headers.Location);
        }

        var what = $"blob {blob.Digest}";
        if (_options.ChunkSize > 0 && blob.Size > _options.ChunkSize)
        {
            await using var source = new VerifyingStream(open(), blob, what);
            long offset = 0;
            var buffer = new byte[_options.ChunkSize];
            while (offset < blob.Size)
            {
                var length = await source.ReadAtLeastAsync(buffer, (int)Math.Min(buffer.Length, blob.Size - offset), throwOnEndOfStream: true, cancellationToken).ConfigureAwait(false);
                var from = offset;
                var target = location;
                using var response = await SendInSessionAsync(() =>
                {
                    var chunk = new ByteArrayContent(buffer, 0, length);
                    chunk.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                    chunk.Headers.ContentLength = length;
                    // Content-Range without the "bytes" unit, as the distribution spec writes it.
                    chunk.Headers.TryAddWithoutValidation("Content-Range", $"{from}-{from + length - 1}");
                    return new HttpRequestMessage(HttpMethod.Patch, target) { Content = chunk };
                }, repository, cancellationToken).ConfigureAwait(false);
                if (response.StatusCode != HttpStatusCode.Accepted || response.Headers.Location is null)
                {
                    throw Unexpected(response, $"uploading a chunk of {blob.Digest} to '{repository}'");
                }

                location = Resolve(response.Headers.Location);
                offset += length;
                Interlocked.Add(ref _bytesUploaded, length);
                _options.Observer?.Invoke(new TransferEvent(TransferKind.Uploading, repository, blob.Digest, blob.Size, offset));
            }

            using var done = await SendInSessionAsync(() => new HttpRequestMessage(HttpMethod.Put, WithDigest(location, blob.Digest)) { Content = new ByteArrayContent([]) }, repository, cancellationToken).ConfigureAwait(false);
            if (done.StatusCode != HttpStatusCode.Created)
            {
                throw Unexpected(done, $"completing the upload of {blob.Digest} to '{repository}'");
            }

            return;
        }

        using var put = await SendInSessionAsync(() =>
        {
            var body = new ProgressStream(new VerifyingStream(open(), blob, what), done => _options.Observer?.Invoke(new TransferEvent(TransferKind.Uploading, repository, blob.Digest, blob.Size, done)));
            var content = new StreamContent(body, CopyBuffer);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.ContentLength = blob.Size;
            return new HttpRequestMessage(HttpMethod.Put, WithDigest(location, blob.Digest)) { Content = content };
        }, repository, cancellationToken).ConfigureAwait(false);
        if (put.StatusCode != HttpStatusCode.Created)
        {
            throw Unexpected(put, $"uploading {blob.Digest} to '{repository}'");
        }

        Interlocked.Add(ref _bytesUploaded, blob.Size);
    }

    /// <summary>
    /// One request of an upload session, authenticated. Throttling (429, or 503 with Retry-After) is waited out and the
    /// request made again in the same session; any other transient failure ends the attempt, so that the session is
    /// restarted (its state after a broken request is unknown).
    /// </summary>
    private async Task<HttpResponseMessage> SendInSessionAsync(Func<HttpRequestMessage> create, string repository, CancellationToken cancellationToken) =>
        await _retry.ExecuteAsync(async ct =>
        {
            using var request = await PrepareAsync(create(), new RegistryScope(repository, Push: true, OneShot: true), ct).ConfigureAwait(false);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (ContentMismatchException.Find(e) is { } mismatch && mismatch != e)
            {
                // HttpClient wraps what the body's stream threw; the refusal is the news, not the transport.
                throw mismatch;
            }

            if (!RetryStrategy.IsTransient(response.StatusCode))
            {
                return response;
            }

            var status = response.StatusCode;
            var retryAfter = RetryStrategy.RetryAfter(response, _options.Time);
            response.Dispose();
            if (RetryStrategy.IsThrottle(status, retryAfter))
            {
                throw new RetryableException($"HTTP {(int)status}", status, retryAfter);
            }

            throw new HttpRequestException($"Registry '{Registry}' answered {(int)status} during an upload.", null, status);
        }, e => e is RetryableException, cancellationToken).ConfigureAwait(false);

    private static Uri WithDigest(Uri location, Digest digest)
    {
        var text = location.ToString();
        return new Uri(text + (text.Contains('?') ? "&" : "?") + "digest=" + Uri.EscapeDataString(digest.ToString()));
    }

    /// <summary>Reports bytes read through it, so that a monolithic PUT shows progress; disposing it disposes the source.</summary>
    private sealed class ProgressStream(Stream inner, Action<long> report) : Stream
    {
        private long _done;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => _done; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        private int Count(int read)
        {
            _done += read;
            if (read > 0)
            {
                report(_done);
            }

            return read;
        }
    }
}
