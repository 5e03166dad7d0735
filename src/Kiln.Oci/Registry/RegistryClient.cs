using System.Net;
using System.Text.Json;
using Kiln.Oci.Http;

namespace Kiln.Oci.Registry;

/// <summary>
/// A client of one registry's distribution API (https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md).
/// This file holds what every operation shares: the connection (HTTPS first, plain HTTP only where allowed), the
/// <see cref="RetryStrategy"/> and the errors. Authentication is <see cref="RegistryAuthenticationHandler"/>'s, the TLS
/// trust <see cref="RegistryTransport"/>'s; the operations are split by what they move: manifests
/// (RegistryClient.Manifests.cs), blob reads and mounts (RegistryClient.Blobs.cs) and blob uploads
/// (RegistryClient.Uploads.cs). Everything pulled is verified against its digest and size before the caller sees it,
/// and everything pushed is hashed as it streams.
/// </summary>
public sealed partial class RegistryClient : IDisposable
{
    private readonly RegistryClientOptions _options;
    private readonly RegistryTransport _transport = new();
    private readonly RetryStrategy _retry;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _probe = new(1, 1);
    private Uri? _base;
    private long _bytesUploaded;

    /// <summary>Creates a client of <paramref name="registry"/> (host[:port], as in an image reference).</summary>
    public RegistryClient(string registry, RegistryClientOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(registry);
        Registry = registry == ImageReference.DockerHub ? "registry-1.docker.io" : registry;
        _options = options ?? new RegistryClientOptions();
        _retry = new RetryStrategy(new RetryOptions
        {
            Budget = _options.RetryBudget,
            InitialBackoff = _options.InitialBackoff,
            MaxBackoff = _options.MaxBackoff,
            Time = _options.Time,
        });
        var transport = _options.Handler ?? _transport.CreateHandler(_options.CaCertificateFile);
        var authentication = new RegistryAuthenticationHandler(Registry, _options.Credentials, transport);
        // A handler from the caller stays the caller's: disposing the authentication layer would dispose it too.
        _http = new HttpClient(authentication, disposeHandler: _options.Handler is null) { Timeout = _options.RequestTimeout };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("kiln/0.1");
    }

    /// <summary>The registry host this client talks to.</summary>
    public string Registry { get; }

    /// <summary>Blob bytes sent by uploads since the client was created.</summary>
    public long BytesUploaded => Interlocked.Read(ref _bytesUploaded);

    /// <inheritdoc />
    public void Dispose()
    {
        _http.Dispose();

        _probe.Dispose();
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
            catch (HttpRequestException e) when (!_transport.CertificateRejected && _options.AllowsPlainHttp(Registry) && e.HttpRequestError is HttpRequestError.SecureConnectionError or HttpRequestError.ConnectionError)
            {
                return _base = new Uri($"http://{Registry}/");
            }
            catch (HttpRequestException) when (_transport.CertificateRejected)
            {
                throw new RegistryException(RegistryFailure.Unreachable, Registry, $"The TLS certificate of registry '{Registry}' is not trusted. Trust its CA (KILN_REGISTRY_CA_FILE=ca.pem, or the system's CA store), or, for a registry on a trusted network, list it in KilnInsecureRegistries.", inner: null);
            }
            catch (HttpRequestException)
            {
                // Not reachable now; retries decide. Plain HTTP is never chosen for a remote registry.
                return _options.AllowsPlainHttp(Registry) ? new Uri($"http://{Registry}/") : https;
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

    /// <summary>
    /// Sends a request made by <paramref name="create"/> (once per attempt), authenticated for its scope and retried
    /// by the <see cref="RetryStrategy"/>; the response is the caller's to dispose.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> create, RegistryScope scope, CancellationToken cancellationToken)
    {
        try
        {
            return await _retry.SendAsync(async ct =>
            {
                var request = await PrepareAsync(create(), scope, ct).ConfigureAwait(false);
                return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (RetryBudgetExhaustedException e)
        {
            throw GaveUp(e);
        }
    }

    /// <summary>Resolves the request against the registry's base and attaches its scope for authentication.</summary>
    private async Task<HttpRequestMessage> PrepareAsync(HttpRequestMessage request, RegistryScope scope, CancellationToken cancellationToken)
    {
        var baseUri = await BaseAsync(cancellationToken).ConfigureAwait(false);
        if (!request.RequestUri!.IsAbsoluteUri)
        {
            request.RequestUri = new Uri(baseUri, request.RequestUri);
        }

        request.Options.Set(RegistryScope.Key, scope);
        return request;
    }

    private Uri Resolve(Uri location) => location.IsAbsoluteUri ? location : new Uri(_base!, location);

    /// <summary>The coded failure for retries that ran out: the registry throttling, or not answering.</summary>
    private RegistryException GaveUp(RetryBudgetExhaustedException e)
    {
        var budget = $"{_options.RetryBudget.TotalSeconds:0.#} s";
        if (e.Throttled)
        {
            var asked = e.RetryAfter is { } wait ? $", asking to wait {wait.TotalSeconds:0.#} s" : "";
            return new RegistryException(RegistryFailure.Throttled, Registry, $"Registry '{Registry}' throttled Kiln's requests (HTTP {(int)e.Status!}{asked}) for longer than the retry budget of {budget} ({e.Attempts} attempts). The registry limits the request rate: wait and run again (what was already pushed is not sent twice), or raise the registry's rate limit for this client.", e.Status, e);
        }

        return new RegistryException(RegistryFailure.Unreachable, Registry, $"Registry '{Registry}' could not be reached after {e.Attempts} attempts in {e.Elapsed.TotalSeconds:0.#} s ({Describe(e.Last)}). Check that it is running and reachable, then run again: what was already pushed is not sent twice.", e.Status, e.Last);
    }

    private static string Describe(Exception e) => e switch
    {
        RetryableException r => r.Message,
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

        var failure = status == HttpStatusCode.NotFound ? RegistryFailure.NotFound : RetryStrategy.IsTransient(status) ? RegistryFailure.Unreachable : RegistryFailure.Protocol;
        return new RegistryException(failure, Registry, $"Registry '{Registry}' answered {(int)status}{(code is null ? "" : " " + code)} when {what}.", status);
    }
}
