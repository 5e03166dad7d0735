using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace Kiln.Oci.Registry;

/// <summary>
/// A client of one registry's distribution API (https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md):
/// manifests and blobs (GET/HEAD/PUT), monolithic and chunked uploads, cross-repository mounts, the token flow
/// (realm/service/scope, https://distribution.github.io/distribution/spec/auth/token/) and basic auth. Everything
/// pulled is verified against its digest and size before the caller sees it. Transient failures (429, 5xx,
/// timeouts, refused connections) are retried with exponential backoff.
/// </summary>
public sealed class RegistryClient : IDisposable
{
    private const int MaxManifestBytes = 4 * 1024 * 1024;
    private const int CopyBuffer = 256 * 1024;

    private static readonly string ManifestAccept = string.Join(", ", MediaTypes.ImageManifest, MediaTypes.ImageIndex, MediaTypes.DockerManifest, MediaTypes.DockerManifestList);

    private readonly RegistryClientOptions _options;
    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<string, AuthenticationHeaderValue> _tokens = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _probe = new(1, 1);
    private AuthenticationHeaderValue? _basic;
    private Uri? _base;
    private bool _certificateRejected;

    /// <summary>Creates a client of <paramref name="registry"/> (host[:port], as in an image reference).</summary>
    public RegistryClient(string registry, RegistryClientOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(registry);
        Registry = registry == ImageReference.DockerHub ? "registry-1.docker.io" : registry;
        _options = options ?? new RegistryClientOptions();
        var handler = _options.Handler ?? CreateHandler();
        _http = new HttpClient(handler, disposeHandler: _options.Handler is null) { Timeout = _options.RequestTimeout };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("kiln/0.1");
    }

    /// <summary>The registry host this client talks to.</summary>
    public string Registry { get; }

    /// <summary>Blob bytes sent by uploads since the client was created.</summary>
    public long BytesUploaded => Interlocked.Read(ref _bytesUploaded);

    private long _bytesUploaded;

    /// <summary>Whether the registry has the blob (HEAD).</summary>
    public async Task<bool> BlobExistsAsync(string repository, Digest digest, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Head, $"v2/{repository}/blobs/{digest}"), repository, push: false, cancellationToken).ConfigureAwait(false);
        return response.StatusCode switch
        {
            HttpStatusCode.OK => true,
            HttpStatusCode.NotFound => false,
            _ => throw Unexpected(response, $"checking blob {digest} in '{repository}'"),
        };
    }

    /// <summary>The manifest's descriptor (HEAD), or null when the registry does not have it.</summary>
    public async Task<Descriptor?> HeadManifestAsync(string repository, string reference, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => ManifestRequest(HttpMethod.Head, repository, reference), repository, push: false, cancellationToken).ConfigureAwait(false);
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

    /// <summary>
    /// Fetches a manifest or index by tag or digest. When <paramref name="reference"/> is a digest the content must
    /// hash to it; otherwise it must match the Docker-Content-Digest the registry sent, if any.
    /// </summary>
    /// <exception cref="RegistryException">Not found, refused, or content that does not match its digest.</exception>
    public async Task<(Descriptor Descriptor, byte[] Content)> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => ManifestRequest(HttpMethod.Get, repository, reference), repository, push: false, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new RegistryException(RegistryFailure.NotFound, Registry, $"{Registry}/{repository} has no manifest '{reference}'.", response.StatusCode);
        }

        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw Unexpected(response, $"fetching manifest '{reference}' of '{repository}'");
        }

        var content = await ReadLimitedAsync(response, MaxManifestBytes, repository, reference, cancellationToken).ConfigureAwait(false);
        var actual = Digest.Sha256(content);
        Digest? expected = Digest.TryParse(reference, out var pinned) ? pinned
            : Digest.TryParse(response.Headers.TryGetValues("Docker-Content-Digest", out var v) ? v.FirstOrDefault() : null, out var sent) ? sent : null;
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
        }, repository, push: true, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Created && response.StatusCode != HttpStatusCode.OK)
        {
            throw Unexpected(response, $"uploading manifest '{reference}' to '{repository}'");
        }
    }

    /// <summary>
    /// Downloads a blob into <paramref name="destination"/>, hashing as it goes. Throws before returning if the content
    /// is longer or shorter than <paramref name="blob"/>'s size or hashes differently: the caller must then discard
    /// what was written (an <see cref="OciLayout"/> blob writer that is not completed discards itself).
    /// </summary>
    public async Task DownloadBlobAsync(string repository, Descriptor blob, Stream destination, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, $"v2/{repository}/blobs/{blob.Digest}"), repository, push: false, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new RegistryException(RegistryFailure.NotFound, Registry, $"{Registry}/{repository} has no blob {blob.Digest}.", response.StatusCode);
        }

        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw Unexpected(response, $"downloading blob {blob.Digest} of '{repository}'");
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new byte[CopyBuffer];
        long total = 0;
        int read;
        while ((read = await ReadBodyAsync(body, buffer, repository, blob.Digest, cancellationToken).ConfigureAwait(false)) > 0)
        {
            total += read;
            if (total > blob.Size)
            {
                throw new RegistryException(RegistryFailure.ContentMismatch, Registry, $"{Registry}/{repository} served blob {blob.Digest} longer than its declared {blob.Size} bytes. The content was refused.");
            }

            hash.AppendData(buffer, 0, read);
            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            _options.Observer?.Invoke(new TransferEvent(TransferKind.Downloading, repository, blob.Digest, blob.Size, total));
        }

        var actual = Digest.FromSha256Hash(hash.GetHashAndReset());
        if (total != blob.Size || actual != blob.Digest)
        {
            throw new RegistryException(RegistryFailure.ContentMismatch, Registry, $"{Registry}/{repository} served blob {blob.Digest} with content of {total} bytes whose digest is {actual}. The content was refused and nothing was cached.");
        }

        _options.Observer?.Invoke(new TransferEvent(TransferKind.Downloaded, repository, blob.Digest, blob.Size, total));
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
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, $"v2/{repository}/blobs/uploads/?mount={Uri.EscapeDataString(digest.ToString())}&from={Uri.EscapeDataString(fromRepository)}"), repository, push: true, cancellationToken, mountFrom: fromRepository).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Created)
        {
            _options.Observer?.Invoke(new TransferEvent(TransferKind.Mounted, repository, digest, 0, 0));
            return true;
        }

        if (response.StatusCode == HttpStatusCode.Accepted && response.Headers.Location is { } location)
        {
            // The registry opened an upload instead; leave nothing dangling.
            using var cancel = await SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, Resolve(location)), repository, push: true, cancellationToken).ConfigureAwait(false);
            return false;
        }

        throw Unexpected(response, $"mounting blob {digest} into '{repository}'");
    }

    /// <summary>
    /// Uploads a blob unless the registry has it: HEAD first; then one PUT, or PATCH chunks when the blob is larger than
    /// <see cref="RegistryClientOptions.ChunkSize"/>. <paramref name="open"/> is called once per attempt. Returns whether
    /// bytes were sent.
    /// </summary>
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

    /// <summary>Uploads a blob (POST to open the session, then PUT or PATCH…PUT), restarting the session on transient failures.</summary>
    public async Task UploadBlobAsync(string repository, Descriptor blob, Func<Stream> open, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await UploadOnceAsync(repository, blob, open, cancellationToken).ConfigureAwait(false);
                _options.Observer?.Invoke(new TransferEvent(TransferKind.Uploaded, repository, blob.Digest, blob.Size, blob.Size));
                return;
            }
            catch (Exception e) when (attempt < _options.MaxAttempts && IsTransient(e, cancellationToken))
            {
                await DelayAsync(attempt, null, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IsTransient(e, cancellationToken) && e is not RegistryException)
            {
                throw Unreachable(e);
            }
        }
    }

    private async Task UploadOnceAsync(string repository, Descriptor blob, Func<Stream> open, CancellationToken cancellationToken)
    {
        Uri location;
        using (var start = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, $"v2/{repository}/blobs/uploads/"), repository, push: true, cancellationToken).ConfigureAwait(false))
        {
            if (start.StatusCode != HttpStatusCode.Accepted || start.Headers.Location is null)
            {
                throw Unexpected(start, $"starting an upload of {blob.Digest} to '{repository}'");
            }

            location = Resolve(start.Headers.Location);
        }

        await using var source = open();
        if (_options.ChunkSize > 0 && blob.Size > _options.ChunkSize)
        {
            long offset = 0;
            var buffer = new byte[_options.ChunkSize];
            while (offset < blob.Size)
            {
                var length = await source.ReadAtLeastAsync(buffer, (int)Math.Min(buffer.Length, blob.Size - offset), throwOnEndOfStream: true, cancellationToken).ConfigureAwait(false);
                var chunk = new ByteArrayContent(buffer, 0, length);
                chunk.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                chunk.Headers.ContentLength = length;
                var from = offset;
                var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = chunk };
                // Content-Range without the "bytes" unit, as the distribution spec writes it.
                request.Content.Headers.TryAddWithoutValidation("Content-Range", $"{from}-{from + length - 1}");
                using var response = await SendOnceAsync(request, repository, cancellationToken).ConfigureAwait(false);
                if (response.StatusCode != HttpStatusCode.Accepted || response.Headers.Location is null)
                {
                    throw Unexpected(response, $"uploading a chunk of {blob.Digest} to '{repository}'");
                }

                location = Resolve(response.Headers.Location);
                offset += length;
                Interlocked.Add(ref _bytesUploaded, length);
                _options.Observer?.Invoke(new TransferEvent(TransferKind.Uploading, repository, blob.Digest, blob.Size, offset));
            }

            using var done = await SendOnceAsync(new HttpRequestMessage(HttpMethod.Put, WithDigest(location, blob.Digest)) { Content = new ByteArrayContent([]) }, repository, cancellationToken).ConfigureAwait(false);
            if (done.StatusCode != HttpStatusCode.Created)
            {
                throw Unexpected(done, $"completing the upload of {blob.Digest} to '{repository}'");
            }

            return;
        }

        var content = new StreamContent(new ProgressStream(source, done => _options.Observer?.Invoke(new TransferEvent(TransferKind.Uploading, repository, blob.Digest, blob.Size, done))), CopyBuffer);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.ContentLength = blob.Size;
        using var put = await SendOnceAsync(new HttpRequestMessage(HttpMethod.Put, WithDigest(location, blob.Digest)) { Content = content }, repository, cancellationToken).ConfigureAwait(false);
        if (put.StatusCode != HttpStatusCode.Created)
        {
            throw Unexpected(put, $"uploading {blob.Digest} to '{repository}'");
        }

        Interlocked.Add(ref _bytesUploaded, blob.Size);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _http.Dispose();
        _probe.Dispose();
    }

    private HttpMessageHandler CreateHandler()
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(15),
            AutomaticDecompression = DecompressionMethods.None,
        };
        X509Certificate2Collection? extra = null;
        if (_options.CaCertificateFile is { } caFile)
        {
            extra = [];
            extra.ImportFromPemFile(caFile);
        }

        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
        {
            if (errors == SslPolicyErrors.None)
            {
                return true;
            }

            if (extra is not null && certificate is not null && (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == 0)
            {
                // Trust the given CAs in addition to the system's: rebuild the chain with them as roots.
                using var custom = new X509Chain();
                custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                custom.ChainPolicy.CustomTrustStore.AddRange(extra);
                custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                if (custom.Build(new X509Certificate2(certificate)))
                {
                    return true;
                }
            }

            _certificateRejected = true;
            return false;
        };
        return handler;
    }

    private HttpRequestMessage ManifestRequest(HttpMethod method, string repository, string reference)
    {
        var request = new HttpRequestMessage(method, $"v2/{repository}/manifests/{reference}");
        request.Headers.TryAddWithoutValidation("Accept", ManifestAccept);
        return request;
    }

    /// <summary>HTTPS first; plain HTTP only when allowed and the registry does not speak TLS at all.</summary>
    private async Task<Uri> BaseAsync(CancellationToken cancellationToken)
    {
        if (_base is { } known)
        {
            return known;
        }

        await _probe.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_base is not null)
            {
                return _base;
            }

            var https = new Uri($"https://{Registry}/");
            try
            {
                using var ping = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(https, "v2/")), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                return _base = https;
            }
            catch (HttpRequestException e) when (!_certificateRejected && _options.AllowsPlainHttp(Registry) && e.HttpRequestError is HttpRequestError.SecureConnectionError or HttpRequestError.ConnectionError)
            {
                return _base = new Uri($"http://{Registry}/");
            }
            catch (HttpRequestException) when (_certificateRejected)
            {
                throw new RegistryException(RegistryFailure.Unreachable, Registry, $"The TLS certificate of registry '{Registry}' is not trusted. Trust its CA (KILN_REGISTRY_CA_FILE=ca.pem, or the system's CA store), or, for a registry on a trusted network, list it in KilnInsecureRegistries.", inner: null);
            }
            catch (HttpRequestException)
            {
                // Not reachable now; retries below decide. Plain HTTP is never chosen for a remote registry.
                if (_options.AllowsPlainHttp(Registry))
                {
                    return new Uri($"http://{Registry}/");
                }

                return https;
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return _options.AllowsPlainHttp(Registry) ? new Uri($"http://{Registry}/") : https;
            }
        }
        finally
        {
            _probe.Release();
        }
    }

    /// <summary>Sends with authentication and retries; the response is the caller's to dispose.</summary>
    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> create, string repository, bool push, CancellationToken cancellationToken, string? mountFrom = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            HttpResponseMessage response;
            try
            {
                var baseUri = await BaseAsync(cancellationToken).ConfigureAwait(false);
                response = await SendAuthenticatedAsync(create, baseUri, repository, push, mountFrom, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (attempt < _options.MaxAttempts && IsTransient(e, cancellationToken))
            {
                await DelayAsync(attempt, null, cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (Exception e) when (IsTransient(e, cancellationToken) && e is not RegistryException)
            {
                throw Unreachable(e);
            }

            if (attempt < _options.MaxAttempts && ((int)response.StatusCode == 429 || (int)response.StatusCode >= 500))
            {
                var retryAfter = response.Headers.RetryAfter?.Delta;
                response.Dispose();
                await DelayAsync(attempt, retryAfter, cancellationToken).ConfigureAwait(false);
                continue;
            }

            return response;
        }
    }

    /// <summary>One request in an upload session (no retry: the session restarts instead), authenticated.</summary>
    private async Task<HttpResponseMessage> SendOnceAsync(HttpRequestMessage request, string repository, CancellationToken cancellationToken)
    {
        var baseUri = await BaseAsync(cancellationToken).ConfigureAwait(false);
        var used = false;
        var response = await SendAuthenticatedAsync(() =>
        {
            // A request with a streamed body can only be sent once; authentication was settled by the POST before it.
            if (used)
            {
                throw new RegistryException(RegistryFailure.CredentialsRejected, Registry, $"Registry '{Registry}' asked for authentication again during an upload to '{repository}'.");
            }

            used = true;
            return request;
        }, baseUri, repository, push: true, null, cancellationToken).ConfigureAwait(false);
        if ((int)response.StatusCode == 429 || (int)response.StatusCode >= 500)
        {
            var status = response.StatusCode;
            response.Dispose();
            throw new HttpRequestException($"Registry '{Registry}' answered {(int)status} during an upload.", null, status);
        }

        return response;
    }

    private async Task<HttpResponseMessage> SendAuthenticatedAsync(Func<HttpRequestMessage> create, Uri baseUri, string repository, bool push, string? mountFrom, CancellationToken cancellationToken)
    {
        var scope = $"repository:{repository}:{(push ? "pull,push" : "pull")}";
        for (var round = 0; ; round++)
        {
            var request = create();
            if (!request.RequestUri!.IsAbsoluteUri)
            {
                request.RequestUri = new Uri(baseUri, request.RequestUri);
            }

            var authorization = _tokens.TryGetValue(scope, out var token) ? token : _basic;
            if (authorization is not null)
            {
                request.Headers.Authorization = authorization;
            }

            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.Unauthorized || round > 0)
            {
                if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                {
                    var credential = _options.Credentials.Find(Registry);
                    response.Dispose();
                    throw credential is null
                        ? CredentialsMissing(repository)
                        : new RegistryException(RegistryFailure.CredentialsRejected, Registry, $"Registry '{Registry}' refused the credentials found for it (user '{credential.Username}') for '{repository}' ({(int)response.StatusCode}). Check them in {_options.Credentials.Describe()}, and that the user may {(push ? "push to" : "pull from")} '{repository}'.", response.StatusCode);
                }

                return response;
            }

            var challenge = response.Headers.WwwAuthenticate.FirstOrDefault();
            response.Dispose();
            await AuthenticateAsync(challenge, scope, mountFrom, repository, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task AuthenticateAsync(AuthenticationHeaderValue? challenge, string scope, string? mountFrom, string repository, CancellationToken cancellationToken)
    {
        var credential = _options.Credentials.Find(Registry);
        if (challenge is null || challenge.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            if (credential is null)
            {
                throw CredentialsMissing(repository);
            }

            _basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Secret}")));
            return;
        }

        if (!challenge.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            throw new RegistryException(RegistryFailure.Protocol, Registry, $"Registry '{Registry}' asks for '{challenge.Scheme}' authentication, which Kiln does not support (Basic and Bearer tokens are).");
        }

        var parameters = ParseChallenge(challenge.Parameter ?? "");
        if (!parameters.TryGetValue("realm", out var realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri))
        {
            throw new RegistryException(RegistryFailure.Protocol, Registry, $"Registry '{Registry}' sent a Bearer challenge without a usable realm.");
        }

        var query = new StringBuilder();
        if (parameters.TryGetValue("service", out var service))
        {
            query.Append("service=").Append(Uri.EscapeDataString(service));
        }

        var scopes = new List<string> { scope };
        if (mountFrom is not null)
        {
            scopes.Add($"repository:{mountFrom}:pull");
        }

        foreach (var s in scopes)
        {
            query.Append(query.Length > 0 ? "&" : "").Append("scope=").Append(Uri.EscapeDataString(s));
        }

        var tokenRequest = new HttpRequestMessage(HttpMethod.Get, new UriBuilder(realmUri) { Query = query.ToString() }.Uri);
        if (credential is not null && !credential.IdentityToken)
        {
            tokenRequest.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Secret}")));
        }

        using var response = await _http.SendAsync(tokenRequest, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw credential is null
                ? CredentialsMissing(repository)
                : new RegistryException(RegistryFailure.CredentialsRejected, Registry, $"The token service of registry '{Registry}' refused the credentials found for it (user '{credential.Username}'). Check them in {_options.Credentials.Describe()}.", response.StatusCode);
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new RegistryException(RegistryFailure.Protocol, Registry, $"The token service of registry '{Registry}' answered {(int)response.StatusCode}.", response.StatusCode);
        }

        using var document = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false));
        var value = document.RootElement.TryGetProperty("token", out var t) ? t.GetString()
            : document.RootElement.TryGetProperty("access_token", out var a) ? a.GetString() : null;
        if (string.IsNullOrEmpty(value))
        {
            throw new RegistryException(RegistryFailure.Protocol, Registry, $"The token service of registry '{Registry}' answered without a token.");
        }

        _tokens[scope] = new AuthenticationHeaderValue("Bearer", value);
    }

    private RegistryException CredentialsMissing(string repository) =>
        new(RegistryFailure.CredentialsMissing, Registry, $"Registry '{Registry}' requires authentication for '{repository}', and no credentials for it were found. Kiln looks in: {_options.Credentials.Describe()}. Log in (docker login {Registry}, or skopeo login), or set KILN_REGISTRY_USERNAME and KILN_REGISTRY_PASSWORD.", HttpStatusCode.Unauthorized);

    private static Dictionary<string, string> ParseChallenge(string text)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && (text[i] == ',' || text[i] == ' '))
            {
                i++;
            }

            var eq = text.IndexOf('=', i);
            if (eq < 0)
            {
                break;
            }

            var key = text[i..eq].Trim();
            i = eq + 1;
            string value;
            if (i < text.Length && text[i] == '"')
            {
                var end = text.IndexOf('"', i + 1);
                end = end < 0 ? text.Length : end;
                value = text[(i + 1)..end];
                i = end + 1;
            }
            else
            {
                var end = text.IndexOf(',', i);
                end = end < 0 ? text.Length : end;
                value = text[i..end].Trim();
                i = end;
            }

            result[key] = value;
        }

        return result;
    }

    private Uri Resolve(Uri location) => location.IsAbsoluteUri ? location : new Uri(_base!, location);

    private static Uri WithDigest(Uri location, Digest digest)
    {
        var text = location.ToString();
        return new Uri(text + (text.Contains('?') ? "&" : "?") + "digest=" + Uri.EscapeDataString(digest.ToString()));
    }

    private static bool IsTransient(Exception e, CancellationToken cancellationToken) => e switch
    {
        RegistryException => false,
        HttpRequestException => true,
        IOException => true,
        TaskCanceledException => !cancellationToken.IsCancellationRequested, // HttpClient's timeout
        _ => false,
    };

    private Task DelayAsync(int attempt, TimeSpan? retryAfter, CancellationToken cancellationToken)
    {
        var backoff = TimeSpan.FromTicks(_options.InitialBackoff.Ticks * (1L << Math.Min(attempt - 1, 16)));
        var delay = retryAfter is { } r && r > backoff ? r : backoff;
        return Task.Delay(delay > _options.MaxBackoff ? _options.MaxBackoff : delay, _options.Time, cancellationToken);
    }

    private RegistryException Unreachable(Exception e) =>
        new(RegistryFailure.Unreachable, Registry, $"Registry '{Registry}' could not be reached after {_options.MaxAttempts} attempts ({Describe(e)}). Check that it is running and reachable, then run again: what was already pushed is not sent twice.", inner: e);

    private static string Describe(Exception e) => e switch
    {
        HttpRequestException { StatusCode: { } status } => $"HTTP {(int)status}",
        HttpRequestException h => h.HttpRequestError.ToString(),
        TaskCanceledException => "timed out",
        _ => e.GetType().Name,
    };

    private RegistryException Unexpected(HttpResponseMessage response, string what)
    {
        var status = response.StatusCode;
        string? code = null;
        try
        {
            // The distribution spec's error body: {"errors":[{"code":"…","message":"…"}]}; only the code is kept.
            var body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            using var document = JsonDocument.Parse(body);
            code = document.RootElement.GetProperty("errors")[0].GetProperty("code").GetString();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException or HttpRequestException or IOException)
        {
        }

        var failure = status == HttpStatusCode.NotFound ? RegistryFailure.NotFound : (int)status is 429 or >= 500 ? RegistryFailure.Unreachable : RegistryFailure.Protocol;
        return new RegistryException(failure, Registry, $"Registry '{Registry}' answered {(int)status}{(code is null ? "" : " " + code)} when {what}.", status);
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

    /// <summary>Reports bytes read through it, so that a monolithic PUT shows progress.</summary>
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
